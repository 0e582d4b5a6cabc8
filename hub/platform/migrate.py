"""Alembic, driven from code: ``relaydesk migrate`` and auto-migration at start."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from alembic import command
from alembic.config import Config

from hub.platform.database import ensure_sqlite_dir

MIGRATIONS = Path(__file__).resolve().parent.parent / "db" / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(url: str, revision: str) -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the schema up to ``revision``. Alembic's environment runs its own event loop, so
    when called from inside one this runs in a worker thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url, revision)
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_upgrade, url, revision).result()


async def upgrade_async(url: str, revision: str = "heads") -> None:
    await asyncio.to_thread(_upgrade, url, revision)
