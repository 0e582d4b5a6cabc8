"""Outbound delivery on the job queue: each queued message (an ``outbox`` row, written with its
cause) is sent through its channel, retried with exponential backoff and jitter, and given up
after ``max_attempts``. Every attempt's outcome is written on the message as soon as it is
known, so agents see queued, retrying, sent or failed (and why)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state

from channels.base import (
    Channel,
    DeliveryResult,
)
from hub.config.settings import OutboxSettings
from hub.core import sla
from hub.db.models import (
    Conversation,
    DeliveryState,
    Message,
    OutboxItem,
    OutboxState,
)
from hub.outbound import handed_over, parts
from hub.outbound.in_order import InOrder
from hub.platform.claimed_on_write import ClaimedOnWrite
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.events import publish
from hub.platform.finished_work import FinishedWork
from hub.platform.metrics import Metrics
from hub.platform.queue import Claim, Failure, RetryPolicy, WorkQueue
from hub.platform.supervisor import Worker
from hub.reports.record import Reports

log = logging.getLogger(__name__)
LEASE_SECONDS = OutboxSettings().lease_seconds  # the default (outbox.lease_seconds)
STOP_GRACE_SECONDS = 10.0


def retry_policy(settings: OutboxSettings) -> RetryPolicy:
    return RetryPolicy(
        settings.max_attempts, settings.base_delay_seconds, settings.max_delay_seconds, jitter=True
    )


def backoff(settings: OutboxSettings, attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones (jittered, capped)."""
    return retry_policy(settings).delay(attempts)


class Dispatcher:
    """The outbox's handler on the job queue, and its worker."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        settings: OutboxSettings,
        clock: Clock,
        metrics: Metrics | None = None,
        reports: Reports | None = None,
    ) -> None:
        self.db = db
        self.metrics = metrics
        self.reports = reports  # hears of agents' replies once they are delivered
        self.channels = channels
        self.settings = settings
        self.clock = clock
        self.queue = WorkQueue(
            db,
            OutboxItem,
            clock,
            retry_policy(settings),
            lease_seconds=settings.lease_seconds,
            batch_size=settings.batch_size,
            concurrency=settings.concurrency,
            carry=("message_id", "channel"),
            read_along=_read_group,
        )
        self.in_order = InOrder()  # one conversation's messages leave in order
        # While the worker runs, a message queued in this process is leased to it in the same
        # INSERT and sent right after the commit, with no claim of its own.
        self.written = ClaimedOnWrite(
            db,
            OutboxItem,
            clock,
            lease_seconds=settings.lease_seconds,
            carry=self.queue.carry,
            ready=lambda: self.worker.wake(),  # send (start) them now
            attach=lambda session, item: handed_over.as_written(db, session, item),
        )
        self._look = True  # the next step looks for due rows (woken by wake(), or the poll)
        self._looked_at = 0.0
        self.finished = FinishedWork(db, OutboxItem, clock, timedelta(days=settings.keep_sent_days))
        # The grace lets the batch under way finish, so what it sent is recorded as sent and
        # not sent again after a restart.
        self.worker = Worker(
            "relaydesk-outbox",
            self._step,
            idle_seconds=settings.poll_seconds,
            grace_seconds=STOP_GRACE_SECONDS,
            setup=self.written.started,
            drain=self.written.stopping,
            after_stop=self.written.stopped,
        )

    def wake(self) -> None:
        """Look for due rows now (something was queued or made due)."""
        self._look = True
        self.worker.wake()

    async def _step(self) -> float | None:
        loop = asyncio.get_running_loop()
        if not self._look and loop.time() < self._looked_at + self.settings.poll_seconds:
            await self._send_leased()  # only messages queued here are new: no need to look
            return None
        self._look, self._looked_at = False, loop.time()
        sent = await self.run_once()
        await self.finished.prune()  # at most every ten minutes
        return 0 if sent >= self.settings.batch_size else None

    async def run_once(self) -> int:
        """Send the messages queued here and leased to this worker, then claim due items and
        attempt each once; returns how many were attempted."""
        return await self._send_leased() + await self.queue.run_batch(self)

    async def _send_leased(self) -> int:
        leased = self.written.take()
        await self.queue.run_claims(self, leased)
        return len(leased)

    async def prepare(self, claim: Claim) -> DeliveryResult:
        async with self.in_order.reading():
            outbound = claim.carried.get("outbound")  # as its own transaction wrote it
            if outbound is None:
                async with self.db.reader() as session:
                    message_id = claim.carried["message_id"]
                    outbound = await handed_over.read(self.db, session, message_id, waiting=True)
                if outbound is None:  # gone, or given up (an erasure) since it was claimed
                    return DeliveryResult.failed("the message no longer exists", permanent=True)
            conversation_id = outbound.conversation_id
            before, mine = self.in_order.place(conversation_id)
        name = str(claim.carried["channel"])
        async with self.in_order.turn(conversation_id, before, mine):
            channel = self.channels.get(name)
            if channel is None:
                return DeliveryResult.failed(f"channel {name} is not configured")
            try:
                return await channel.send(outbound)
            except Exception as exc:
                log.exception("channel %s raised while sending", name)
                return DeliveryResult.failed(f"{type(exc).__name__}: {exc}")

    async def apply(
        self, session: AsyncSession, item: OutboxItem, result: DeliveryResult, now: datetime
    ) -> str | Failure:
        # Read before anything changes (and kept: the session holds rows weakly), so that no
        # read flushes half the outcome and the row is written once.
        message, conversation = await _message_and_conversation(session, item.message_id)
        if message is not None:  # a retry resumes after the parts delivered
            parts.remember(message, result.delivered)
        if not result.ok:
            return Failure(result.error or "", result.permanent, result.retry_after or None)
        assert message is not None
        item.attempts += 1  # the outbox counts the try that worked too
        item.sent_at = now
        item.last_error = None
        message.delivery_state = DeliveryState.SENT
        message.delivery_error = None
        if result.external_id and not message.external_id:
            message.external_id = result.external_id
        await self._human_reply(session, message)
        await self._publish(session, message, now, conversation)
        if self.metrics is not None:
            self.metrics.delivered(item.channel)
        return OutboxState.SENT

    async def _human_reply(self, session: AsyncSession, message: Message) -> None:
        """A person's reply counts as a response once delivered (never a bot's or an
        automated message; a reply whose delivery fails never counts)."""
        if message.automated or message.author_agent_id is None:
            return
        conversation = await session.get(Conversation, message.conversation_id)
        if conversation is not None and conversation.first_response_at is None:
            await sla.recount_responses(session, conversation.id)  # sent after a retry
        if self.reports is None:
            return
        if conversation is not None:
            await self.reports.human_reply_delivered(
                session, conversation, message.id, message.author_agent_id, message.created_at
            )

    async def failed(
        self, session: AsyncSession, item: OutboxItem, failure: Failure, now: datetime
    ) -> None:
        if self.metrics is not None:
            self.metrics.delivery_failed(item.channel, final=item.state == OutboxState.FAILED)
        message, conversation = await _message_and_conversation(session, item.message_id)
        if message is None:
            return
        if item.state == OutboxState.FAILED:
            message.delivery_state = DeliveryState.FAILED
            message.delivery_error = f"{failure.error} (after {item.attempts} attempt(s))"
            if message.author_agent_id is not None and not message.automated:
                await sla.recount_responses(session, message.conversation_id)
        else:
            message.delivery_error = (
                f"{failure.error}; retry {item.attempts + 1} of "
                f"{self.settings.max_attempts} at {item.next_attempt_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        await self._publish(session, message, now, conversation)

    async def _publish(
        self,
        session: AsyncSession,
        message: Message,
        now: datetime,
        conversation: Conversation | None,
    ) -> None:
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


_GROUP_READ = "outbox.messages_and_conversations"
Read = tuple[Message | None, Conversation | None]


def _messages_and_conversations(message_ids: list[int]) -> Select[Message, Conversation]:
    return (
        select(Message, Conversation)
        .outerjoin(Conversation, Conversation.id == Message.conversation_id)
        .where(Message.id.in_(message_ids))
    )


async def _read_group(session: AsyncSession, items: list[OutboxItem]) -> None:
    """The messages of a group of outcomes and their conversations, in one select, kept for
    the outcomes' transaction (the session holds rows weakly): each item's read would also
    flush the outcomes written before it."""
    found = await session.execute(_messages_and_conversations([i.message_id for i in items]))
    session.info[_GROUP_READ] = {message.id: (message, conv) for message, conv in found}


async def _message_and_conversation(session: AsyncSession, message_id: int) -> Read:
    """The outbox row's message and its conversation: as the group's read found them, or in
    one select where two gets read them one after the other (also when a rolled-back
    savepoint, another item's failed effects, expired them: the select loads them again)."""
    group: dict[int, Read] | None = session.info.get(_GROUP_READ)
    if group is not None:
        message, conversation = group.get(message_id, (None, None))
        if not _expired(message) and not _expired(conversation):
            return message, conversation
    found = (await session.execute(_messages_and_conversations([message_id]))).first()
    return (found[0], found[1]) if found is not None else (None, None)


def _expired(row: Message | Conversation | None) -> bool:
    return row is not None and bool(instance_state(row).expired_attributes)
