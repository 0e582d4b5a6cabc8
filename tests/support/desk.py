"""The one test harness: a ``Desk`` is an assembled hub on a real database, behind aiohttp's test
client, with the clock the test chose and in-memory channels where the story does not care about
a provider. A routing or follow-up test then reads like a conversation::

    result = await desk.customer_writes("I want a refund")
    [ack] = await desk.wait_sent(1, channel="mail")

``build_app`` is the only place a test builds a hub."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import ColumnElement, func, select

from channels.base import Channel, InboundMessage, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.app import create_app
from hub.config.settings import Settings
from hub.core.staff import add_agent, create_token
from hub.db.base import Base
from hub.db.models import Agent, Conversation, Direction, Message, Presence, Role
from hub.inbound.ingest import Ingestor
from hub.inbound.results import IngestResult
from hub.platform.clock import Clock, ManualClock
from hub.platform.database import Database
from hub.web.keys import HUB, Hub
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink


def build_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: Mapping[str, Channel] | None = None,
    workers: bool = True,
) -> web.Application:
    """The hub as ``serve`` runs it; ``channels`` are used instead of the configured ones.
    Without ``workers`` nothing runs in the background: no channel, outbox dispatcher, job
    runner or file fetcher starts (the test drives them by hand) and ingest runs in the caller."""
    return create_app(settings, clock=clock, channels=channels, start_workers=workers)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Desk:
    client: TestClient[Any, Any]
    smtp: SmtpSink | None = None  # where configured mail goes (the SMTP sink)
    callbacks: HttpRecorder | None = None  # where configured API-channel callbacks go
    memory: dict[str, MemoryChannel] = field(default_factory=dict)

    @property
    def hub(self) -> Hub:
        return self.client.app[HUB]

    @property
    def settings(self) -> Settings:
        return self.hub.settings

    @property
    def db(self) -> Database:
        return self.hub.db

    @property
    def clock(self) -> ManualClock:
        """The clock the test drives (a desk made with ``clock=ManualClock(...)``)."""
        assert isinstance(self.hub.clock, ManualClock), "this desk runs on the system clock"
        return self.hub.clock

    # --- people -------------------------------------------------------------------------------

    async def agent(
        self,
        email: str,
        *,
        role: Role = Role.AGENT,
        teams: tuple[str, ...] = ("support",),
        presence: Presence = Presence.ONLINE,
        capacity: int = 10,
        skills: tuple[str, ...] = (),
        password: str | None = None,
    ) -> tuple[int, str]:
        """Create an agent and return (agent id, API token)."""
        async with self.hub.db.writer() as session:
            agent = await add_agent(
                session,
                email=email,
                name=email.split("@")[0].title(),
                role=role,
                now=self.hub.clock.now(),
                teams=teams,
                presence=presence,
                capacity=capacity,
                password=password,
            )
            if skills:
                agent.skills = list(skills)
            token = await create_token(session, agent, self.hub.clock.now())
            await session.commit()
            return agent.id, token

    # --- the conversation ---------------------------------------------------------------------

    def _memory(self, channel: str | None) -> MemoryChannel:
        if channel is None:
            assert len(self.memory) >= 1, "this desk has no in-memory channel"
            return next(iter(self.memory.values()))
        return self.memory[channel]

    async def customer_writes(
        self,
        text: str,
        *,
        sender: str = "jane@example.com",
        name: str = "Jane Cooper",
        subject: str | None = None,
        thread_key: str | None = None,
        channel: str | None = None,
    ) -> IngestResult:
        """A customer message on an in-memory channel (the first one unless named), through
        the hub's ingest path as any adapter's message goes."""
        message = self._memory(channel).message(
            text, sender=sender, name=name, subject=subject, thread_key=thread_key
        )
        result = await self.hub.ingestor.submit(message)
        assert not result.duplicate, result
        return result

    def sent(self, channel: str | None = None) -> list[OutboundMessage]:
        """What the hub has sent so far on an in-memory channel."""
        return list(self._memory(channel).sent)

    def pop_sent(self, channel: str | None = None) -> OutboundMessage:
        return self._memory(channel).pop_sent()

    async def wait_sent(
        self, count: int, *, channel: str | None = None, timeout: float = 10.0
    ) -> list[OutboundMessage]:
        """Once at least ``count`` messages went out on the channel (the outbox sends in the
        background), all of them."""
        async with asyncio.timeout(timeout):
            return list(await self._memory(channel).wait_for(count))

    def texts(self, channel: str | None = None) -> list[str]:
        return [message.text for message in self.sent(channel)]

    # --- below the web layer ------------------------------------------------------------------

    def ingestor(self, after_commit: Callable[[], None] | None = None) -> Ingestor:
        """An ingestor of its own on the hub's pipeline (the test decides when it runs)."""
        return Ingestor(
            self.hub.db, self.hub.ingestor.pipeline, self.settings.ingest.batch_size, after_commit
        )

    async def ingest(self, *messages: InboundMessage) -> list[IngestResult]:
        """Ingest in one transaction, as one group-commit batch does."""
        return await self.ingestor().process(list(messages))

    async def run_jobs(self) -> int:
        assert self.hub.routing is not None
        return await self.hub.routing.jobs.run_once()

    # --- what is stored -----------------------------------------------------------------------

    async def conversation(self, conversation_id: int) -> Conversation:
        async with self.hub.db.reader() as session:
            found = await session.get(Conversation, conversation_id)
            assert found is not None
            return found

    async def conversations(self) -> list[Conversation]:
        async with self.hub.db.reader() as session:
            rows = await session.scalars(select(Conversation).order_by(Conversation.id))
            return list(rows.all())

    async def message(self, message_id: int) -> Message:
        async with self.hub.db.reader() as session:
            found = await session.get(Message, message_id)
            assert found is not None
            return found

    async def inbound_messages(self) -> list[Message]:
        async with self.hub.db.reader() as session:
            rows = await session.scalars(
                select(Message).where(Message.direction == Direction.INBOUND).order_by(Message.id)
            )
            return list(rows.all())

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


async def open_desk(
    aiohttp_client: AiohttpClient,
    settings: Settings,
    smtp: SmtpSink,
    callbacks: HttpRecorder,
    *,
    clock: Clock | None = None,
    memory: tuple[str, ...] | Mapping[str, MemoryChannel] = (),
    workers: bool = True,
) -> Desk:
    """Start a hub; the channels named in ``memory`` are in-memory ones (besides any configured
    with ``kind = "memory"``); given instances are shared with the desk they came from. Without
    ``workers`` the test drives the hub's dispatcher and jobs itself (see build_app)."""
    given = dict(memory) if isinstance(memory, Mapping) else {n: MemoryChannel(n) for n in memory}
    app = build_app(settings, clock=clock, channels=given, workers=workers)
    client = await aiohttp_client(app)
    hub: Hub = client.app[HUB]
    configured = {n: c for n, c in hub.channels.items() if isinstance(c, MemoryChannel)}
    return Desk(client, smtp, callbacks, given | configured)  # customers write on the first
