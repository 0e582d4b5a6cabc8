"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when
RELAYDESK_TEST_DATABASE_URL is set), a real SMTP sink, a recording HTTP server, and the ``desk``:
the hub running behind aiohttp's test client (tests/support/desk.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from channels.memory.adapter import MemoryChannel
from hub.config.settings import Settings, load_settings
from hub.db.base import Base
from hub.platform.clock import Clock
from hub.platform.migrate import upgrade
from tests.support.desk import AiohttpClient, Desk, MakeDesk, open_desk
from tests.support.desk import auth as auth  # imported from here by many tests
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config" / "relaydesk.toml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _postgres_url() -> str | None:
    url = os.environ.get("RELAYDESK_TEST_DATABASE_URL")
    if not url:
        return None
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    return url


BACKENDS = ["sqlite"] + (["postgresql"] if _postgres_url() else [])


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    url = _postgres_url()
    assert url is not None
    upgrade(url)
    return url


@pytest.fixture(params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> str:
    if request.param == "sqlite":
        target = tmp_path / "relaydesk.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite+aiosqlite:///{target}"
    return await emptied(request.getfixturevalue("postgres_migrated"))


async def emptied(url: str) -> str:
    """The migrated PostgreSQL database at ``url`` with every table emptied."""
    engine = create_async_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await engine.dispose()
    return url


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    await sink.start()
    yield sink
    await sink.stop()


@pytest.fixture
async def callback_server() -> AsyncIterator[HttpRecorder]:
    recorder = HttpRecorder()
    await recorder.start()
    yield recorder
    await recorder.stop()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database.url": database_url,
        "database.auto_migrate": False,
        "capture.enabled": False,
        "outbox.poll_seconds": 0.05,
        "outbox.base_delay_seconds": 0.05,
        # Tests never compete for the example config's fixed inbound SMTP port.
        "channels.mail.inbound_smtp": "127.0.0.1:0",
        # Idle agents are turned away only when a test sweeps (hub.presence.sweep_once).
        "live.sweep_seconds": 3600,
        # The fake bots and webhook receivers listen on 127.0.0.1 (tests of the refusal of
        # non-public addresses turn it off).
        "outgoing.allow_private_targets": True,
    }
    values.update(overrides)
    return load_settings(CONFIG, environ={}, overrides=values)


def fake_endpoints(smtp_sink: SmtpSink, callback_server: HttpRecorder) -> dict[str, Any]:
    """Mail goes to the SMTP sink, API-channel callbacks to the recording server."""
    return {
        "channels.mail.smtp_port": smtp_sink.port,
        "channels.api.callback_url": callback_server.url("/callback"),
    }


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(database_url, **fake_endpoints(smtp_sink, callback_server))


@pytest.fixture
def desk_clock() -> Clock | None:
    """The hub's clock: the system's, unless a module or folder asks for a ManualClock."""
    return None


@pytest.fixture
def make_desk(
    database_url: str,
    smtp_sink: SmtpSink,
    callback_server: HttpRecorder,
    aiohttp_client: AiohttpClient,
    desk_clock: Clock | None,
) -> MakeDesk:
    """More desks: other settings (``**overrides`` on the defaults, or ``settings=``), another
    clock, another hub process on the same database, a hub with no worker running
    (``workers=False``: the test drives the dispatcher and the job runner by hand)."""

    async def make(
        clock: Clock | None = None,
        *,
        settings: Settings | None = None,
        memory: tuple[str, ...] | Mapping[str, MemoryChannel] = (),
        workers: bool = True,
        **overrides: Any,
    ) -> Desk:
        if settings is None:
            settings = make_settings(
                database_url, **{**fake_endpoints(smtp_sink, callback_server), **overrides}
            )
        elif overrides:
            raise TypeError("give settings= or overrides, not both")
        return await open_desk(
            aiohttp_client,
            settings,
            smtp_sink,
            callback_server,
            clock=clock or desk_clock,
            memory=memory,
            workers=workers,
        )

    return make


@pytest.fixture
async def desk(make_desk: MakeDesk, settings: Settings) -> Desk:
    return await make_desk(settings=settings)
