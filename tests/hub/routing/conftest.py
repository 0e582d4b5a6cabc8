"""The hub behind aiohttp's test client with a clock the test drives (ManualClock), the real
SMTP sink and callback server, and helpers to post customer messages through the API channel
and run the job runner's pass on demand."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import ColumnElement, func, select

from hub.app import create_app
from hub.config.settings import Settings
from hub.core.staff import add_agent, create_token
from hub.db.base import Base
from hub.db.models import Agent, Conversation, Presence, Role
from hub.platform.clock import ManualClock
from hub.web.keys import HUB, Hub
from tests.conftest import make_settings
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

INBOUND_TOKEN = "demo-inbound-token-0123456789"
# A Monday, 09:00 UTC (10:00 in Berlin).
MONDAY_9 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Desk:
    client: TestClient[Any, Any]
    hub: Hub
    clock: ManualClock
    smtp: SmtpSink
    callbacks: HttpRecorder
    counter: int = 0

    async def agent(
        self,
        email: str,
        *,
        role: Role = Role.AGENT,
        teams: tuple[str, ...] = ("support",),
        presence: Presence = Presence.ONLINE,
        capacity: int = 10,
        skills: tuple[str, ...] = (),
    ) -> tuple[int, str]:
        async with self.hub.db.writer() as session:
            agent = await add_agent(
                session,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                now=self.clock.now(),
                teams=teams,
                presence=presence,
                capacity=capacity,
            )
            agent.skills = list(skills)
            token = await create_token(session, agent, self.clock.now())
            await session.commit()
            return agent.id, token

    async def send(
        self,
        text: str,
        *,
        sender: str = "jane@example.com",
        name: str = "Jane Cooper",
        subject: str | None = None,
        thread_key: str | None = None,
        client: TestClient[Any, Any] | None = None,
    ) -> dict[str, Any]:
        """Post a customer message to the API channel; returns the ingest result."""
        self.counter += 1
        body: dict[str, Any] = {
            "external_id": f"m-{self.counter}-{id(client or self.client)}",
            "from": {"address": sender, "name": name},
            "text": text,
        }
        if subject is not None:
            body["subject"] = subject
        if thread_key is not None:
            body["thread_key"] = thread_key
        response = await (client or self.client).post(
            "/api/v1/inbound/api", json=body, headers=auth(INBOUND_TOKEN)
        )
        assert response.status == 201, await response.text()
        result: dict[str, Any] = await response.json()
        return result

    async def run_jobs(self) -> int:
        assert self.hub.routing is not None
        return await self.hub.routing.jobs.run_once()

    async def conversation(self, conversation_id: int) -> Conversation:
        async with self.hub.db.reader() as session:
            found = await session.get(Conversation, conversation_id)
            assert found is not None
            return found

    async def agent_row(self, agent_id: int) -> Agent:
        async with self.hub.db.reader() as session:
            found = await session.get(Agent, agent_id)
            assert found is not None
            return found

    async def count(self, model: type[Base], *where: ColumnElement[bool]) -> int:
        async with self.hub.db.reader() as session:
            value = await session.scalar(select(func.count()).select_from(model).where(*where))
        return int(value or 0)


AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]
MakeDesk = Callable[..., Awaitable[Desk]]


def desk_settings(
    database_url: str, smtp: SmtpSink, callbacks: HttpRecorder, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "channels.mail.smtp_port": smtp.port,
        "channels.api.callback_url": callbacks.url("/callback"),
        "jobs.poll_seconds": 3600,  # passes run when the test says so (run_jobs)
        "followups.rules": [],
        "sla_policies": [],
    }
    values.update(overrides)
    return make_settings(database_url, **values)


@pytest.fixture
async def make_desk(
    database_url: str,
    smtp_sink: SmtpSink,
    callback_server: HttpRecorder,
    aiohttp_client: AiohttpClient,
) -> AsyncIterator[MakeDesk]:
    async def make(clock: ManualClock | None = None, **overrides: Any) -> Desk:
        settings = desk_settings(database_url, smtp_sink, callback_server, **overrides)
        clock = clock or ManualClock(MONDAY_9)
        client = await aiohttp_client(create_app(settings, clock=clock))
        return Desk(client, client.app[HUB], clock, smtp_sink, callback_server)

    yield make
