"""Sending deliveries (the queue handler over ``webhook_deliveries``): each attempt is a signed
POST, made with no transaction open, then logged with its status, duration and the start of
the answer. A 2xx answer delivers; anything else is retried with exponential backoff until
``max_attempts``. Failed attempts in a row make a subscription's failure streak: once it is
``disable_after_failures`` long and spans ``disable_after_hours``, the subscription is
disabled, the change audited and every admin told."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import client, signing
from hub.config.integrations import WebhookSettings
from hub.core.audit import record_change
from hub.core.notices import notify
from hub.db.models import Agent, Role
from hub.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from hub.integrations import texts
from hub.integrations.catalog import PING
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.queue import Claim, Failure
from hub.platform.targets import Targets

DELIVERY = "X-Relaydesk-Delivery"
EVENT = "X-Relaydesk-Event"
USER_AGENT = "Relaydesk-Webhooks/1"
EXCERPT = 500
DELIVERED, SKIPPED = "delivered", "skipped"


@dataclass(frozen=True, slots=True)
class Sent:
    """One attempt's answer; ``skipped`` when the subscription was disabled meanwhile."""

    answer: client.Answer | None
    skipped: bool = False
    streak: int = 0  # the subscription's failure streak before this attempt

    @property
    def ok(self) -> bool:
        return (
            self.answer is not None
            and self.answer.status is not None
            and (200 <= self.answer.status < 300)
        )


def request_headers(
    secret: str, delivery_id: int, event: str, at: int, body: bytes
) -> dict[str, str]:
    return {
        **signing.headers(secret, at, body),
        DELIVERY: str(delivery_id),
        EVENT: event,
        "User-Agent": USER_AGENT,
    }


class Sender:
    def __init__(
        self, db: Database, clock: Clock, settings: WebhookSettings, targets: Targets
    ) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.http = client.BotClient(targets)  # pooled keep-alive connections; closed with the hub

    async def prepare(self, claim: Claim) -> Sent:
        async with self.db.reader() as session:
            found = (
                await session.execute(
                    select(WebhookDelivery, WebhookSubscription)
                    .join(WebhookSubscription)
                    .where(WebhookDelivery.id == claim.key)
                )
            ).one_or_none()
            if found is None:  # the subscription was deleted since the claim
                return Sent(None, skipped=True)
            delivery, subscription = found
            if not subscription.enabled and delivery.event != PING:
                return Sent(None, skipped=True)
            url, secret, streak = subscription.url, subscription.secret, subscription.failure_streak
            body, event, ident = delivery.body.encode(), delivery.event, delivery.id
        headers = request_headers(secret, ident, event, int(time.time()), body)
        answer = await self.http.post(url, body, headers, self.settings.timeout_ms)
        return Sent(answer, streak=streak)

    async def apply(
        self, session: AsyncSession, row: WebhookDelivery, sent: Sent, now: datetime
    ) -> str | Failure:
        if sent.skipped or sent.answer is None:
            row.last_error = "the subscription was disabled before this attempt"
            return SKIPPED
        answer = sent.answer
        session.add(
            WebhookAttempt(
                delivery_id=row.id,
                subscription_id=row.subscription_id,
                attempt=row.attempts + 1,
                outcome="ok" if sent.ok else ("timeout" if answer.timed_out else "error"),
                http_status=answer.status,
                duration_ms=answer.bot_ms,
                response_excerpt=answer.body[:EXCERPT].decode("utf-8", "replace")[:EXCERPT],
                error=(answer.error or "")[:500] or None,
                manual=row.redeliveries > 0 and row.attempts == 0,
                created_at=now,
            )
        )
        row.last_status = answer.status
        if sent.ok:
            row.delivered_at, row.last_error = now, None
            if not sent.streak:
                return DELIVERED
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.id == row.subscription_id)
                .values(failure_streak=0, failing_since=None)
            )
            return DELIVERED
        error = answer.error or f"HTTP {answer.status}"
        if row.event == PING:  # a test says how the receiver answers; it is no streak
            return Failure(error, permanent=True)
        disabled = await self._count_failure(session, row.subscription_id, now)
        return Failure(error, permanent=disabled)

    async def failed(
        self, session: AsyncSession, row: WebhookDelivery, failure: Failure, now: datetime
    ) -> None:
        """Nothing more: the attempt is logged by ``apply``."""

    async def _count_failure(
        self, session: AsyncSession, subscription_id: int, now: datetime
    ) -> bool:
        """One more failure in the streak; True when the subscription is (now) disabled."""
        await session.execute(
            update(WebhookSubscription)
            .where(WebhookSubscription.id == subscription_id)
            .values(
                failure_streak=WebhookSubscription.failure_streak + 1,
                failing_since=func.coalesce(WebhookSubscription.failing_since, now),
            )
            .execution_options(synchronize_session=False)
        )
        subscription = await session.get(
            WebhookSubscription, subscription_id, populate_existing=True
        )
        assert subscription is not None
        if not subscription.enabled:
            return True
        limit, hours = self.settings.disable_after_failures, self.settings.disable_after_hours
        since = subscription.failing_since or now
        if subscription.failure_streak < limit or now - since < timedelta(hours=hours):
            return False
        await disable(
            session,
            subscription,
            texts.auto_disabled(subscription.failure_streak, hours),
            now,
            None,
        )
        return True


async def disable(
    session: AsyncSession,
    subscription: WebhookSubscription,
    reason: str,
    now: datetime,
    actor_id: int | None,
) -> None:
    """Disable (audited); a disable the hub decided is told to every admin."""
    subscription.enabled, subscription.disabled_at = False, now
    subscription.disabled_reason, subscription.updated_at = reason[:300], now
    await record_change(
        session, actor_id=actor_id, area="webhooks", action="disable", target=subscription.name,
        old={"enabled": True}, new={"enabled": False, "reason": reason}, at=now,
    )  # fmt: skip
    if actor_id is not None:
        return
    admins = await session.scalars(
        select(Agent.id).where(Agent.role == Role.ADMIN, Agent.active.is_(True))
    )
    text = texts.disabled_notice(subscription.name, subscription.url, reason)
    for admin_id in admins.all():
        notify(session, admin_id, "webhook_disabled", text, now)
