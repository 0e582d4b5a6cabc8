"""Snoozed conversations wake up (back to open, back in the inbox) when their time comes: each
snooze is a wake-up on the job queue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import JobSettings
from hub.core.conversations import set_status
from hub.db.inbox_models import Snooze
from hub.db.models import Conversation, ConversationStatus
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import EventBus
from hub.platform.queue import Claim, Failure, RetryPolicy, WorkQueue
from hub.platform.supervisor import Worker

WOKEN = "woken"


async def snooze(
    session: AsyncSession,
    conversation: Conversation,
    until: datetime,
    now: datetime,
    agent_id: int,
) -> None:
    await clear_snooze(session, conversation.id)
    session.add(
        Snooze(
            conversation_id=conversation.id,
            next_attempt_at=until,
            agent_id=agent_id,
            state="pending",
            attempts=0,
        )
    )
    await set_status(session, conversation, ConversationStatus.SNOOZED, now, actor_id=agent_id)


async def clear_snooze(session: AsyncSession, conversation_id: int) -> None:
    await session.execute(delete(Snooze).where(Snooze.conversation_id == conversation_id))


async def snoozed_until(session: AsyncSession, conversation_id: int) -> datetime | None:
    return await session.scalar(
        select(Snooze.next_attempt_at).where(
            Snooze.conversation_id == conversation_id, Snooze.state == "pending"
        )
    )


class Snoozer:
    """Wakes snoozed conversations on the job queue: each snooze is a wake-up due at ``until``
    that reopens the conversation (if it is still snoozed) and tells the live inbox."""

    def __init__(self, db: Database, clock: Clock, bus: EventBus, settings: JobSettings) -> None:
        self.db = db
        self.bus = bus
        self.queue = WorkQueue(
            db,
            Snooze,
            clock,
            RetryPolicy(max_attempts=5, base_seconds=5, max_seconds=300),
            lease_seconds=settings.lease_seconds,
            batch_size=200,
        )
        self.worker = Worker(
            "relaydesk-snoozer", self._step, idle_seconds=min(settings.poll_seconds, 5.0)
        )

    async def _step(self) -> None:
        await self.wake_due()

    async def wake_due(self) -> int:
        """Reopen every conversation whose snooze has ended; returns how many."""
        woken = await self.queue.drain(self)
        if woken:
            self.bus.wake()
        return woken

    async def prepare(self, claim: Claim) -> None:
        return None

    async def apply(self, session: AsyncSession, item: Snooze, _: None, now: datetime) -> str:
        conversation = await session.get(Conversation, item.conversation_id)
        if conversation is not None and conversation.status == ConversationStatus.SNOOZED:
            await set_status(session, conversation, ConversationStatus.OPEN, now)
        return WOKEN

    async def failed(self, session: AsyncSession, item: Snooze, _: Failure, now: datetime) -> None:
        return None
