"""Admins' subscriptions: create (the signing secret is made here and shown once), change the
name, URL or events, enable and disable, delete. Every change is audited (never the secret). A
subscription hears the events committed after it was created or enabled again: what happened
while it was disabled is not owed. Deleting one drops the deliveries still owed to it (none
more is attempted) and its delivery log; the audit log keeps what was deleted."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Integer, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.db.webhook_models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from hub.integrations import texts
from hub.integrations.catalog import EVENTS
from hub.integrations.fanout import latest_event_id
from hub.integrations.sender import disable
from hub.platform.queue import PENDING
from hub.platform.targets import Targets

AREA = "webhooks"


def check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise texts.bad_field("url", "must be an http:// or https:// URL with a host")
    if len(url) > 500 or any(c.isspace() for c in url):
        raise texts.bad_field("url", "must be at most 500 characters, without spaces")
    if parts.username or parts.password:
        raise texts.bad_field("url", "must not carry a user name or password")
    return url


async def check_target(url: str | None, targets: Targets) -> None:
    """Refuse a URL to a non-public address (checked again as each delivery connects); run
    before the write transaction, as a name is resolved."""
    problem = await targets.refusal(url)
    if problem is not None:
        raise texts.bad_field("url", problem)


def check_events(names: Iterable[str]) -> list[str]:
    chosen = []
    for name in names:
        if name not in EVENTS:
            raise texts.unknown_event(name)
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise texts.bad_field("events", "choose at least one event")
    return [name for name in EVENTS if name in chosen]


def check_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise texts.bad_field("name", "is required (100 characters at most)")
    return name


def shown(subscription: WebhookSubscription) -> dict[str, Any]:
    """What the audit log and the pages show (never the secret)."""
    return {
        "id": subscription.id,
        "name": subscription.name,
        "url": subscription.url,
        "events": list(subscription.events),
        "enabled": subscription.enabled,
    }


@dataclass(frozen=True, slots=True)
class Created:
    subscription: WebhookSubscription
    secret: str


async def create(
    session: AsyncSession,
    actor_id: int | None,
    name: str,
    url: str,
    events: Iterable[str],
    now: datetime,
) -> Created:
    secret = "whsec_" + secrets.token_urlsafe(32)
    subscription = WebhookSubscription(
        name=check_name(name),
        url=check_url(url),
        events=check_events(events),
        secret=secret,
        enabled=True,
        cursor=await latest_event_id(session),
        failure_streak=0,
        created_by=actor_id,
        created_at=now,
        updated_at=now,
    )
    session.add(subscription)
    await session.flush()
    await record_change(
        session, actor_id=actor_id, area=AREA, action="create", target=subscription.name,
        new=shown(subscription), at=now,
    )  # fmt: skip
    return Created(subscription, secret)


async def change(
    session: AsyncSession,
    actor_id: int | None,
    subscription: WebhookSubscription,
    now: datetime,
    *,
    name: str | None = None,
    url: str | None = None,
    events: Iterable[str] | None = None,
    enabled: bool | None = None,
) -> None:
    old = shown(subscription)
    if name is not None:
        subscription.name = check_name(name)
    if url is not None:
        subscription.url = check_url(url)
    if events is not None:
        subscription.events = check_events(events)
    if enabled is True and not subscription.enabled:
        subscription.enabled, subscription.disabled_at, subscription.disabled_reason = (
            True,
            None,
            None,
        )
        subscription.failure_streak, subscription.failing_since = 0, None
        subscription.cursor = await latest_event_id(session)
    subscription.updated_at = now
    if enabled is False and subscription.enabled:
        await disable(session, subscription, texts.MANUAL_REASON, now, actor_id)
    new = shown(subscription)
    if new != old and not (enabled is False and {**old, "enabled": False} == new):
        await record_change(
            session, actor_id=actor_id, area=AREA, action="update", target=subscription.name,
            old=old, new=new, at=now,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Removed:
    """What deleting a subscription took with it."""

    name: str
    pending: int  # deliveries still owed (never attempted again)
    logged: int  # deliveries in its log (every one, sent or not)


async def log_size(session: AsyncSession, subscription_id: int) -> tuple[int, int]:
    """How many deliveries the subscription's log holds, and how many of them are pending."""
    pending = (WebhookDelivery.state == PENDING).cast(Integer)
    found = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(pending), 0)).where(
                WebhookDelivery.subscription_id == subscription_id
            )
        )
    ).one()
    return int(found[0]), int(found[1])


async def remove(
    session: AsyncSession, actor_id: int | None, subscription: WebhookSubscription, now: datetime
) -> Removed:
    """Delete the subscription (locked by the caller) with its deliveries and their attempts.
    A delivery being attempted right now finds its row gone: its outcome is not written and it
    is not attempted again."""
    logged, pending = await log_size(session, subscription.id)
    owned = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == subscription.id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(owned)))
    await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    )
    removed = Removed(subscription.name, pending, logged)
    old = shown(subscription)
    await session.delete(subscription)
    await session.flush()
    await record_change(
        session, actor_id=actor_id, area=AREA, action="delete", target=removed.name, old=old,
        new={"pending_dropped": pending, "deliveries_removed": logged}, at=now,
    )  # fmt: skip
    return removed
