"""Reading a subscription's delivery log: its deliveries, newest first, each with its attempts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.webhook_models import WebhookAttempt, WebhookDelivery


@dataclass(frozen=True, slots=True)
class Logged:
    delivery: WebhookDelivery
    attempts: Sequence[WebhookAttempt]


async def delivery_log(
    session: AsyncSession, subscription_id: int, *, before: int = 0, limit: int = 50
) -> list[Logged]:
    query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if before:
        query = query.where(WebhookDelivery.id < before)
    deliveries = list(
        (await session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit))).all()
    )
    attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in deliveries}
    if deliveries:
        rows = await session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_(list(attempts)))
            .order_by(WebhookAttempt.id.desc())
        )
        for row in rows:
            attempts[row.delivery_id].append(row)
    return [Logged(d, attempts[d.id]) for d in deliveries]


async def delivery_of(
    session: AsyncSession, subscription_id: int, delivery_id: int
) -> WebhookDelivery | None:
    delivery = await session.get(WebhookDelivery, delivery_id, with_for_update=True)
    if delivery is None or delivery.subscription_id != subscription_id:
        return None
    return delivery


async def logged_one(session: AsyncSession, delivery: WebhookDelivery) -> Logged:
    rows = await session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id == delivery.id)
        .order_by(WebhookAttempt.id.desc())
    )
    return Logged(delivery, list(rows))
