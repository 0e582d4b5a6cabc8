"""Upgrading to presence tracking: agents online or away at that moment start their first span
then, so their time online counts from the upgrade on; offline agents have none."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from hub.platform.migrate import upgrade


def test_agents_present_at_the_upgrade_start_a_span(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0014_job_queue")
    with sqlite3.connect(path) as db:
        for email, presence in (("on@x.example", "online"), ("off@x.example", "offline")):
            db.execute(
                "INSERT INTO agents (email, name, role, capacity, open_count, presence, skills,"
                " active, created_at) VALUES (?, 'A', 'agent', 10, 0, ?, '[]', 1, ?)",
                (email, presence, "2026-01-05 09:00:00.000000"),
            )
    before = datetime.now(UTC).replace(tzinfo=None)
    upgrade(url, "0016_presence")
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT agents.email, spans.presence, spans.started_at, spans.ended_at"
            " FROM presence_spans spans JOIN agents ON agents.id = spans.agent_id"
        ).fetchall()
    assert [(email, presence, ended) for email, presence, _, ended in rows] == [
        ("on@x.example", "online", None)
    ]
    assert datetime.fromisoformat(rows[0][2]) >= before.replace(microsecond=0)
