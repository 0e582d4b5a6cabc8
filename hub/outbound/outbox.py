"""The outbox dispatcher: sends queued outbound messages through their channel, retrying with
exponential backoff. Every attempt's outcome is written on the message, so a failure is visible."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import (
    Attachment,
    Channel,
    DeliveryResult,
    IdentityKind,
    OutboundMessage,
    Party,
)
from hub.config.settings import OutboxSettings
from hub.core.files import files_of
from hub.db.models import (
    Agent,
    Conversation,
    DeliveryState,
    Identity,
    Message,
    OutboxItem,
    OutboxState,
)
from hub.platform.background import Background
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import publish

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


def backoff(settings: OutboxSettings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones (full jitter, capped)."""
    ceiling = min(settings.max_delay_seconds, settings.base_delay_seconds * 2 ** (attempts - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


async def _attachments(session: AsyncSession, message: Message) -> tuple[Attachment, ...]:
    """The files an agent attached (stored files), with their content, in listed order."""
    if not any("file_id" in meta for meta in message.attachments or ()):
        return ()
    return tuple(
        Attachment(row.filename, row.content_type, row.size, content=row.content)
        for row in await files_of(session, message.id)
    )


class Dispatcher:
    def __init__(
        self, db: Database, channels: Mapping[str, Channel], settings: OutboxSettings, clock: Clock
    ) -> None:
        self.db = db
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self._wake = asyncio.Event()
        self._background = Background("relaydesk-outbox", self._run)
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._background.start()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        # Let the pass under way finish, so what it sent is recorded as sent and not sent
        # again after a restart; then stop waiting for new work.
        self._stopping = True
        self.wake()
        await self._background.join(grace_seconds)
        await self._background.stop()

    async def _run(self) -> None:
        while not self._stopping:
            try:
                sent = await self.run_once()
            except Exception:
                log.exception("outbox pass failed")
                sent = 0
            if sent < self.settings.batch_size and not self._stopping:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation from stop() when a wake() lands at the same moment.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.settings.poll_seconds):
                        await self._wake.wait()
                self._wake.clear()

    async def _claim(self, now: datetime) -> list[int]:
        async with self.db.writer() as session:
            query = (
                select(OutboxItem.id)
                .where(
                    OutboxItem.state == OutboxState.PENDING,
                    OutboxItem.next_attempt_at <= now,
                    or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
                )
                .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
                .limit(self.settings.batch_size)
            )
            if not self.db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.scalars(query)).all())
            if ids:
                await session.execute(
                    update(OutboxItem)
                    .where(OutboxItem.id.in_(ids))
                    .values(locked_until=now + LEASE)
                    .execution_options(synchronize_session=False)
                )
            await session.commit()
            return ids

    async def run_once(self) -> int:
        """Claim due items and attempt each once; returns how many were attempted."""
        ids = await self._claim(self.clock.now())
        if not ids:
            return 0
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def attempt(item_id: int) -> tuple[int, DeliveryResult] | None:
            async with limit:
                return await self._attempt(item_id)

        outcomes = await asyncio.gather(*(attempt(item_id) for item_id in ids))
        await self._record([outcome for outcome in outcomes if outcome is not None])
        return len(ids)

    async def _outbound(self, session: AsyncSession, message: Message) -> OutboundMessage:
        identity = await session.get(Identity, message.identity_id) if message.identity_id else None
        author = (
            await session.get(Agent, message.author_agent_id) if message.author_agent_id else None
        )
        raw = message.raw or {}
        references = tuple(str(r) for r in raw.get("references") or ())
        in_reply_to = raw.get("in_reply_to")
        return OutboundMessage(
            message_id=message.id,
            channel=message.channel,
            recipient=Party(
                IdentityKind(identity.kind) if identity else IdentityKind.EMAIL,
                identity.address if identity else str(raw.get("to", "")),
                identity.display_name if identity else None,
            ),
            text=message.text,
            html=message.html,
            subject=message.subject,
            sender_name=author.name if author else None,
            thread_key=str(raw["thread_key"]) if raw.get("thread_key") else None,
            external_id=message.external_id,
            in_reply_to=str(in_reply_to) if in_reply_to else None,
            references=references,
            conversation_id=message.conversation_id,
            automated=message.automated,
            attachments=await _attachments(session, message),
        )

    async def _attempt(self, item_id: int) -> tuple[int, DeliveryResult] | None:
        async with self.db.reader() as session:
            item = await session.get(OutboxItem, item_id)
            message = await session.get(Message, item.message_id) if item else None
            if item is None or message is None:
                return None
            outbound = await self._outbound(session, message)
        channel = self.channels.get(item.channel)
        if channel is None:
            result = DeliveryResult.failed(f"channel {item.channel} is not configured")
        else:
            try:
                result = await channel.send(outbound)
            except Exception as exc:
                log.exception("channel %s raised while sending", item.channel)
                result = DeliveryResult.failed(f"{type(exc).__name__}: {exc}")
        return item_id, result

    async def _record(self, outcomes: list[tuple[int, DeliveryResult]]) -> None:
        """Write every attempt's outcome of one pass in one transaction."""
        if not outcomes:
            return
        now = self.clock.now()
        async with self.db.writer() as session:
            # Load the rows in two queries; _record_one then finds them in the identity map.
            items = (
                await session.scalars(
                    select(OutboxItem).where(OutboxItem.id.in_([i for i, _ in outcomes]))
                )
            ).all()
            messages = (
                await session.scalars(
                    select(Message).where(Message.id.in_([item.message_id for item in items]))
                )
            ).all()
            _conversations = (  # for the live "delivery" events (kept referenced while used)
                await session.scalars(
                    select(Conversation).where(
                        Conversation.id.in_({message.conversation_id for message in messages})
                    )
                )
            ).all()
            for item_id, result in outcomes:
                await self._record_one(session, item_id, result, now)
            await session.commit()

    async def _record_one(
        self, session: AsyncSession, item_id: int, result: DeliveryResult, now: datetime
    ) -> None:
        item = await session.get(OutboxItem, item_id)
        if item is None:
            return
        message = await session.get(Message, item.message_id)
        assert message is not None
        item.attempts += 1
        item.locked_until = None
        if result.ok:
            item.state = OutboxState.SENT
            item.sent_at = now
            item.last_error = None
            message.delivery_state = DeliveryState.SENT
            message.delivery_error = None
            if result.external_id and not message.external_id:
                message.external_id = result.external_id
        elif result.permanent or item.attempts >= self.settings.max_attempts:
            item.state = OutboxState.FAILED
            item.last_error = result.error
            message.delivery_state = DeliveryState.FAILED
            message.delivery_error = f"{result.error} (after {item.attempts} attempt(s))"
        else:
            delay = result.retry_after or backoff(self.settings, item.attempts)
            item.next_attempt_at = now + timedelta(seconds=delay)
            item.last_error = result.error
            message.delivery_error = (
                f"{result.error}; retry {item.attempts + 1} of "
                f"{self.settings.max_attempts} at {item.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        conversation = await session.get(Conversation, message.conversation_id)
        if conversation is not None:  # open conversation pages show the new state at once
            retrying = message.delivery_state == DeliveryState.QUEUED
            await publish(
                session,
                "delivery",
                conversation,
                now,
                message_id=message.id,
                state="retrying" if retrying else message.delivery_state,
                error=message.delivery_error,
            )

    async def retry_now(self, session: AsyncSession, message_id: int) -> bool:
        """Put a failed message back in the queue (an agent's retry)."""
        item = await session.scalar(select(OutboxItem).where(OutboxItem.message_id == message_id))
        if item is None or item.state != OutboxState.FAILED:
            return False
        item.state = OutboxState.PENDING
        item.attempts = 0
        item.next_attempt_at = self.clock.now()
        message = await session.get(Message, message_id)
        if message is not None:
            message.delivery_state = DeliveryState.QUEUED
        return True
