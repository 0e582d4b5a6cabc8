"""Snoozed conversations wake up (back to open, back in the inbox) when their time comes."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.conversations import set_status
from hub.db.inbox_models import Snooze
from hub.db.models import Conversation, ConversationStatus
from hub.platform.background import Background
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import EventBus

log = logging.getLogger(__name__)


async def snooze(
    session: AsyncSession,
    conversation: Conversation,
    until: datetime,
    now: datetime,
    agent_id: int,
) -> None:
    await clear_snooze(session, conversation.id)
    session.add(Snooze(conversation_id=conversation.id, until=until, agent_id=agent_id))
    await set_status(session, conversation, ConversationStatus.SNOOZED, now, actor_id=agent_id)


async def clear_snooze(session: AsyncSession, conversation_id: int) -> None:
    await session.execute(delete(Snooze).where(Snooze.conversation_id == conversation_id))


async def snoozed_until(session: AsyncSession, conversation_id: int) -> datetime | None:
    return await session.scalar(
        select(Snooze.until).where(Snooze.conversation_id == conversation_id)
    )


class Snoozer:
    def __init__(
        self, db: Database, clock: Clock, bus: EventBus, interval_seconds: float = 5.0
    ) -> None:
        self.db = db
        self.clock = clock
        self.bus = bus
        self.interval = interval_seconds
        self._background = Background("relaydesk-snoozer", self._run)

    async def start(self) -> None:
        self._background.start()

    async def stop(self) -> None:
        await self._background.stop()

    async def _run(self) -> None:
        while True:
            try:
                await self.wake_due()
            except Exception:
                log.exception("waking snoozed conversations failed")
            await asyncio.sleep(self.interval)

    async def wake_due(self) -> int:
        """Reopen every conversation whose snooze has ended; returns how many."""
        now = self.clock.now()
        async with self.db.writer() as session:
            due = list(
                (await session.scalars(select(Snooze).where(Snooze.until <= now).limit(200))).all()
            )
            for item in due:
                conversation = await session.get(Conversation, item.conversation_id)
                if conversation is not None and conversation.status == ConversationStatus.SNOOZED:
                    await set_status(session, conversation, ConversationStatus.OPEN, now)
                await session.delete(item)
            await session.commit()
        if due:
            self.bus.wake()
        return len(due)
