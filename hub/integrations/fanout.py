"""Turning the committed event log into deliveries: each enabled subscription keeps a cursor
(every log row up to it was handled). A pass reads the rows above the lowest cursor, owes each
subscription one delivery per webhook event it subscribed to (a unique key per subscription
makes reading a row twice harmless), and moves the cursors over the rows that are settled.

Only committed rows are ever read, so a rolled-back change owes nothing. PostgreSQL hands out
ids before commit: an id missing below newer rows may belong to a transaction still
committing, so the cursors stop below it (rows above it are delivered meanwhile) until the row
after it is ``gap_seconds`` old; then it is taken as never committed (rolled back, erased).
The event log is not pruned above the lowest cursor of an enabled subscription."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.inbox_models import Event
from hub.db.models import Conversation, Message
from hub.db.webhook_models import WebhookDelivery, WebhookSubscription
from hub.integrations.catalog import Raised, raised_by
from hub.integrations.payloads import conversation_view, envelope, event_data, tags_of

READ_LIMIT = 500


async def latest_event_id(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.max(Event.id))) or 0)


async def unread_events(session: AsyncSession) -> bool:
    """Whether the event log has rows above the lowest cursor of an enabled subscription."""
    floor = await session.scalar(
        select(func.min(WebhookSubscription.cursor)).where(WebhookSubscription.enabled.is_(True))
    )
    return floor is not None and await latest_event_id(session) > floor


def settled(floor: int, rows: Sequence[Event], now: datetime, gap: timedelta) -> int:
    """The highest id up to which every id is present, or missing for longer than ``gap``."""
    for row in rows:
        if row.id != floor + 1 and row.created_at > now - gap:
            break
        floor = row.id
    return floor


async def fan_out(
    session: AsyncSession, now: datetime, gap: timedelta, *, lock: bool
) -> tuple[int, bool]:
    """One pass in the caller's transaction (the subscriptions are locked, so processes take
    turns); returns how many deliveries it owed and whether the cursors moved over a full
    read (there may be more to read at once)."""
    query = select(WebhookSubscription).where(WebhookSubscription.enabled.is_(True))
    if lock:
        query = query.with_for_update()
    subscriptions = list((await session.scalars(query.order_by(WebhookSubscription.id))).all())
    if not subscriptions:
        return 0, False
    floor = min(s.cursor for s in subscriptions)
    rows = list(
        (
            await session.scalars(
                select(Event).where(Event.id > floor).order_by(Event.id).limit(READ_LIMIT)
            )
        ).all()
    )
    if not rows:
        return 0, False
    owed = await _owe(session, subscriptions, rows, now)
    top = settled(floor, rows, now, gap)
    for subscription in subscriptions:
        if subscription.cursor < top:
            subscription.cursor = top
    return owed, len(rows) == READ_LIMIT and top > floor


async def _owe(
    session: AsyncSession,
    subscriptions: list[WebhookSubscription],
    rows: list[Event],
    now: datetime,
) -> int:
    wanted: list[tuple[WebhookSubscription, Event, Raised]] = []
    for row in rows:
        for raised in raised_by(row.id, row.kind, row.payload or {}):
            for subscription in subscriptions:
                if row.id > subscription.cursor and raised.event in subscription.events:
                    wanted.append((subscription, row, raised))
    if not wanted:
        return 0
    taken: set[tuple[int, str]] = {
        (row[0], row[1])
        for row in (
            await session.execute(
                select(WebhookDelivery.subscription_id, WebhookDelivery.dedupe).where(
                    WebhookDelivery.subscription_id.in_([s.id for s in subscriptions]),
                    WebhookDelivery.dedupe.in_({raised.id for _, _, raised in wanted}),
                )
            )
        ).all()
    }
    bodies: dict[tuple[int, str], Any] = {}
    views, loaded = await _preload(session, [(row, raised) for _, row, raised in wanted])
    made: list[WebhookDelivery] = []
    for subscription, row, raised in wanted:
        if (subscription.id, raised.id) in taken:
            continue
        taken.add((subscription.id, raised.id))
        key = (row.id, raised.event)
        if key not in bodies:
            data = await event_data(session, row, raised, views)
            bodies[key] = (
                None if data is None else envelope(raised.id, raised.event, row.created_at, data)
            )
        if bodies[key] is None:
            continue
        made.append(
            WebhookDelivery(
                subscription_id=subscription.id,
                event=raised.event,
                event_id=row.id,
                dedupe=raised.id,
                conversation_id=row.conversation_id,
                body=bodies[key],
                created_at=now,
                next_attempt_at=now,
                state="pending",
                attempts=0,
                redeliveries=0,
            )
        )
    session.add_all(made)  # inserted together at the flush
    del loaded
    return len(made)


async def _preload(
    session: AsyncSession, wanted: list[tuple[Event, Raised]]
) -> tuple[dict[int, dict[str, Any]], list[object]]:
    """The conversations (with their tags) and messages the pass shows, read at once; the rows
    are returned to be held (the session keeps them only while referenced)."""
    conversation_ids = {row.conversation_id for row, _ in wanted if row.conversation_id}
    message_ids = {
        int(row.payload["message_id"])
        for row, raised in wanted
        if raised.event == "message.created"
    }
    conversations = list(
        (
            await session.scalars(select(Conversation).where(Conversation.id.in_(conversation_ids)))
        ).all()
    )
    messages = list(
        (await session.scalars(select(Message).where(Message.id.in_(message_ids)))).all()
    )
    tags = await tags_of(session, conversation_ids)
    views = {c.id: conversation_view(c, tags[c.id]) for c in conversations}
    return views, [*conversations, *messages]
