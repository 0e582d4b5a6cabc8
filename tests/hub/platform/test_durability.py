"""Acknowledged means on disk: the hub's SQLite connections (writer and readers) run with
synchronous=FULL unless the operator chooses NORMAL, and WAL stays on for group commit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from hub.config.settings import ConfigError, load_settings
from hub.platform.database import open_database
from tests.conftest import CONFIG


@pytest.mark.parametrize(("chosen", "level"), [(None, 2), ("full", 2), ("normal", 1)])
async def test_sqlite_syncs_every_commit_unless_told_otherwise(
    tmp_path: Path, chosen: str | None, level: int
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'durable.db'}"
    database = open_database(url) if chosen is None else open_database(url, synchronous=chosen)
    try:
        async with database.writer() as session:
            assert (await session.execute(text("PRAGMA synchronous"))).scalar() == level
            assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        async with database.reader() as session:
            assert (await session.execute(text("PRAGMA synchronous"))).scalar() == level
    finally:
        await database.dispose()


def test_the_setting_defaults_to_full_and_names_a_wrong_value() -> None:
    assert load_settings(CONFIG, environ={}).database.sqlite_synchronous == "full"
    with pytest.raises(ConfigError, match="sqlite_synchronous"):
        load_settings(CONFIG, environ={"RELAYDESK_DATABASE__SQLITE_SYNCHRONOUS": "off"})
