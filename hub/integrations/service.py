"""The webhooks of a running hub: one worker turns newly committed events into deliveries and
sends what is due (woken on commit, else every ``poll_seconds``: other processes' changes are
found in the database), and prunes old delivery logs. Several processes share the work: the
fan-out locks the subscriptions, deliveries are claimed with ``FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.integrations import WebhookSettings
from hub.core.audit import record_change
from hub.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from hub.integrations import texts
from hub.integrations.catalog import PING
from hub.integrations.fanout import fan_out, unread_events
from hub.integrations.payloads import ping_body
from hub.integrations.sender import Sender
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import PENDING, RetryPolicy, WorkQueue
from hub.platform.supervisor import Worker
from hub.platform.targets import Targets

PRUNE_EVERY_SECONDS = 3600.0


class Webhooks:
    def __init__(
        self, db: Database, clock: Clock, settings: WebhookSettings, targets: Targets
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_seconds=settings.retry_base_seconds,
            max_seconds=settings.retry_max_seconds,
            jitter=True,
        )
        self.queue = WorkQueue(
            db,
            WebhookDelivery,
            clock,
            policy,
            lease_seconds=settings.lease_seconds,
            batch_size=settings.batch_size,
            concurrency=settings.concurrency,
        )
        self.sender = Sender(db, clock, settings, targets)
        self.worker = Worker(
            "relaydesk-webhooks",
            self._step,
            idle_seconds=settings.poll_seconds,
            settle_seconds=0.05,
        )
        self._pass = asyncio.Lock()
        self._pruned = 0.0

    def wake(self) -> None:
        self.worker.wake()

    async def close(self) -> None:
        """Close the sender's pooled connections (the hub is stopping)."""
        await self.sender.http.close()

    async def _step(self) -> None:
        await self.run_once()
        if time.monotonic() - self._pruned > PRUNE_EVERY_SECONDS:
            self._pruned = time.monotonic()
            await self.prune()

    async def run_once(self) -> int:
        """Owe the deliveries of newly committed events, then send every due one; returns
        how many were attempted."""
        async with self._pass:
            await self.fan_out_once()
            return await self.queue.drain(self.sender)

    async def fan_out_once(self) -> int:
        """Owe the deliveries of the events committed since the last pass (a read first: no
        write transaction while there is nothing new for any subscription)."""
        async with self.db.reader() as session:
            if not await unread_events(session):
                return 0
        gap = timedelta(seconds=self.settings.gap_seconds)
        owed, more = 0, True
        while more:  # a backlog is read a full batch per transaction
            async with self.db.writer() as session:
                now = self.clock.now()
                owed_now, more = await fan_out(session, now, gap, lock=not self.db.is_sqlite)
                await session.commit()
            owed += owed_now
        return owed

    async def prune(self) -> None:
        """Forget finished deliveries (and their attempts) older than ``retention_days``."""
        cutoff = self.clock.now() - timedelta(days=self.settings.retention_days)
        old = select(WebhookDelivery.id).where(
            WebhookDelivery.created_at < cutoff, WebhookDelivery.state != PENDING
        )
        async with self.db.writer() as session:
            await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(old)))
            await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(old)))
            await session.commit()


async def redeliver(
    session: AsyncSession, delivery: WebhookDelivery, actor_id: int | None, now: datetime
) -> None:
    """Send the delivery again, now, with the same body and ids (an admin's action)."""
    subscription = await session.get(WebhookSubscription, delivery.subscription_id)
    assert subscription is not None
    if not subscription.enabled and delivery.event != PING:
        raise texts.not_enabled()
    delivery.state, delivery.attempts, delivery.next_attempt_at = PENDING, 0, now
    delivery.locked_by = delivery.locked_until = delivery.last_error = None
    delivery.redeliveries += 1
    await record_change(
        session, actor_id=actor_id, area="webhooks", action="redeliver",
        target=f"{subscription.name} delivery {delivery.id}", new={"event": delivery.event}, at=now,
    )  # fmt: skip


async def send_test(
    session: AsyncSession, subscription: WebhookSubscription, actor_id: int | None, now: datetime
) -> WebhookDelivery:
    """Owe the subscription a ``ping`` event (sent even while it is disabled)."""
    key = f"{PING}:{secrets.token_hex(8)}"
    delivery = WebhookDelivery(
        subscription_id=subscription.id,
        event=PING,
        event_id=None,
        dedupe=key,
        conversation_id=None,
        body=ping_body(key, subscription.id, now),
        created_at=now,
        next_attempt_at=now,
        state=PENDING,
        attempts=0,
        redeliveries=0,
    )
    session.add(delivery)
    await session.flush()
    await record_change(
        session, actor_id=actor_id, area="webhooks", action="test", target=subscription.name,
        new={"delivery": delivery.id}, at=now,
    )  # fmt: skip
    return delivery
