"""Migration 0018_crm carries existing customers' tags into the indexed ``customer_tags`` rows,
so a database upgraded with customers in it finds them by tag at once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from hub.platform.migrate import upgrade


def test_existing_tags_are_indexed(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0014_job_queue")
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as db:
        for name, tags in (("Jane", '["vip", "press", "vip"]'), ("John", "[]"), ("Ann", "null")):
            db.execute(
                text(
                    "INSERT INTO customers (name, name_key, company, tier, tags, attributes,"
                    " locale, timezone, consent, notes, created_at)"
                    " VALUES (:name, lower(:name), '', 'standard', :tags, '{}', 'en', 'UTC',"
                    " '{}', '', '2026-01-01 00:00:00')"
                ),
                {"name": name, "tags": tags},
            )
    upgrade(url)
    with engine.connect() as db:
        rows = db.execute(
            text("SELECT customer_id, tag FROM customer_tags ORDER BY customer_id, tag")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "press"), (1, "vip")]
