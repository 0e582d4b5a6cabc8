"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when
RELAYDESK_TEST_DATABASE_URL is set), a real SMTP sink, a recording HTTP server, and the hub
running behind aiohttp's test client."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from hub.app import create_app
from hub.config.settings import Settings, load_settings
from hub.core.staff import add_agent, create_token
from hub.db.base import Base
from hub.db.models import Presence, Role
from hub.platform.clock import SystemClock
from hub.platform.migrate import upgrade
from hub.web.keys import HUB, Hub
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
    url: str = request.getfixturevalue("postgres_migrated")
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
    }
    values.update(overrides)
    return load_settings(CONFIG, environ={}, overrides=values)


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **{
            "channels.mail.smtp_port": smtp_sink.port,
            "channels.api.callback_url": callback_server.url("/callback"),
        },
    )


@dataclass
class Running:
    client: TestClient[Any, Any]
    hub: Hub

    async def agent(
        self,
        email: str,
        *,
        role: Role = Role.AGENT,
        teams: tuple[str, ...] = ("support",),
        presence: Presence = Presence.ONLINE,
        capacity: int = 10,
        password: str | None = None,
    ) -> tuple[int, str]:
        """Create an agent and return (agent id, API token)."""
        async with self.hub.db.writer() as session:
            agent = await add_agent(
                session,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                now=SystemClock().now(),
                teams=teams,
                presence=presence,
                capacity=capacity,
                password=password,
            )
            token = await create_token(session, agent, SystemClock().now())
            await session.commit()
            return agent.id, token


AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def running(settings: Settings, aiohttp_client: AiohttpClient) -> Running:
    client = await aiohttp_client(create_app(settings))
    return Running(client, client.app[HUB])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
