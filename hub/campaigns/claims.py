"""Taking due recipients of running campaigns, and the sweeps around sending.

``claim`` runs in one transaction: it reads due ``pending`` rows of one (campaign, channel)
that nobody holds, with their customer and identity (``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so several hub processes take different rows; SQLite has one writer at a time), checks consent
again (an opt-out during the send is honoured: ``skipped``/``opted_out``), defers those inside
their quiet hours, and reserves the rest for this batch with a lease (still ``pending``: a
reservation left by a dead process simply runs out). ``mark_sending`` then turns reserved rows
into ``sending``, in small group commits, right before their provider call, and only while the
campaign is still sending: so a recipient is handed to a provider at most once, a pause or
cancel stops every message not yet started at once, and a crash leaves ``sending`` (then
``unconfirmed``) only the few messages really in flight.

``sweep`` turns rows left ``sending`` past their lease (their process died) into
``unconfirmed`` (never sent again by itself: the marketer may retry them), starts scheduled
campaigns whose moment came and marks campaigns ``finished`` once no recipient is queued or in
flight."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, and_, bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns.compose import Person
from hub.config.campaigns import CampaignSettings
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    CampaignState,
    Consent,
    ConsentState,
    RecipientState,
    Segment,
)
from hub.db.models import Customer, Identity
from hub.platform.database import Database

log = logging.getLogger(__name__)
CR = CampaignRecipient
TABLE = cast(Table, CampaignRecipient.__table__)  # for executemany updates
OPEN = (RecipientState.QUEUED.value, RecipientState.SENDING.value)


@dataclass(slots=True)
class Claimed:
    """One recipient this process marked ``sending``."""

    id: int
    campaign_id: int
    customer_id: int
    channel: str
    identity_kind: str
    address: str
    display_name: str
    attempts: int
    person: Person
    started: bool = False  # marked sending (committed)
    handed: bool = False  # given to the provider: from here on sent, failed or unconfirmed


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: int
    name: str
    content: Mapping[str, Mapping[str, str]]


@dataclass(slots=True)
class Batch:
    token: str
    campaigns: dict[int, CampaignInfo] = field(default_factory=dict)
    items: list[Claimed] = field(default_factory=list)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None


def quiet_until(timezone: str | None, now: datetime, rules: CampaignSettings) -> datetime | None:
    """When the recipient's quiet hours end, if ``now`` is inside them; None otherwise. A
    customer whose timezone is unknown (empty, or the default ``UTC``) has none."""
    start, end = rules.quiet_start_hour, rules.quiet_end_hour
    if not rules.quiet_hours or not timezone or timezone == "UTC" or start == end:
        return None
    zone = _zone(timezone)
    if zone is None:
        return None
    local = now.astimezone(zone)
    hour = local.hour
    inside = (hour >= start or hour < end) if start > end else (start <= hour < end)
    if not inside:
        return None
    target = local.replace(hour=end, minute=0, second=0, microsecond=0)
    if target <= local:
        target = (local + timedelta(days=1)).replace(hour=end, minute=0, second=0, microsecond=0)
    return target.astimezone(UTC)


async def running_campaigns(session: AsyncSession) -> dict[int, CampaignInfo]:
    rows = await session.execute(
        select(Campaign.id, Campaign.name, Campaign.content).where(
            Campaign.state == CampaignState.SENDING.value
        )
    )
    return {cid: CampaignInfo(cid, name, content or {}) for cid, name, content in rows}


async def claim(
    db: Database,
    token: str,
    limits: Mapping[str, int],
    rules: CampaignSettings,
    lease: timedelta,
    now: datetime,
) -> Batch:
    """Mark due recipients ``sending`` (at most ``limits[channel]`` per channel and campaign)
    and commit; returns them."""
    batch = Batch(token)
    async with db.writer() as session:
        batch.campaigns = await running_campaigns(session)
        ready: list[Claimed] = []
        skipped: list[dict[str, Any]] = []
        deferred: list[dict[str, Any]] = []
        for campaign_id in batch.campaigns:
            for channel, limit in limits.items():
                query = (
                    select(
                        CR.id,
                        CR.customer_id,
                        CR.attempts,
                        Identity.kind,
                        Identity.address,
                        Identity.display_name,
                        Consent.state,
                        Customer.name,
                        Customer.company,
                        Customer.tier,
                        Customer.locale,
                        Customer.timezone,
                        Customer.attributes,
                    )
                    .join(Customer, Customer.id == CR.customer_id)
                    .outerjoin(Identity, Identity.id == CR.identity_id)
                    .outerjoin(Consent, Consent.identity_id == CR.identity_id)
                    .where(
                        CR.campaign_id == campaign_id,
                        CR.state == RecipientState.QUEUED.value,
                        CR.next_attempt_at <= now,
                        or_(CR.locked_until.is_(None), CR.locked_until < now),
                        CR.channel == channel,
                    )
                    .order_by(CR.next_attempt_at, CR.id)
                    .limit(limit)
                )
                if not db.is_sqlite:
                    query = query.with_for_update(of=CR, skip_locked=True)
                for row in await session.execute(query):
                    consent = row[6]
                    if consent != ConsentState.GRANTED.value or row.address is None:
                        reason = "suppressed" if consent == ConsentState.SUPPRESSED else "opted_out"
                        skipped.append({"rid": row.id, "reason": reason})
                        continue
                    until = quiet_until(row.timezone, now, rules)
                    if until is not None:
                        deferred.append({"rid": row.id, "at": until})
                        continue
                    person = Person(
                        row.name or "",
                        row.company or "",
                        row.tier or "",
                        row.locale or "",
                        row.timezone or "",
                        row.attributes or {},
                    )
                    ready.append(
                        Claimed(
                            row.id,
                            campaign_id,
                            row.customer_id,
                            channel,
                            row.kind,
                            row.address,
                            row.display_name or "",
                            row.attempts,
                            person,
                        )
                    )
        table = TABLE
        if ready:
            await session.execute(
                update(CR)
                .where(CR.id.in_([item.id for item in ready]))
                .values(locked_by=token, locked_until=now + lease)
                .execution_options(synchronize_session=False)
            )
        if skipped:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("rid"))
                .values(state=RecipientState.SKIPPED.value, skip_reason=bindparam("reason")),
                skipped,
            )
        if deferred:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("rid"))
                .values(next_attempt_at=bindparam("at")),
                deferred,
            )
        await session.commit()
    batch.items = ready
    return batch


async def mark_sending(
    db: Database, token: str, ids: list[int], lease: timedelta, now: datetime
) -> set[int]:
    """Mark reserved rows ``sending`` (committed) if this batch still holds them and their
    campaign is still sending; returns the ids marked (only those may be handed over)."""
    running = exists().where(
        Campaign.id == CR.campaign_id, Campaign.state == CampaignState.SENDING.value
    )
    async with db.writer() as session:
        marked = await session.scalars(
            update(CR)
            .where(
                CR.id.in_(ids),
                CR.locked_by == token,
                CR.state == RecipientState.QUEUED.value,
                running,
            )
            .values(state=RecipientState.SENDING.value, sending_at=now, locked_until=now + lease)
            .returning(CR.id)
            .execution_options(synchronize_session=False)
        )
        found = set(marked)
        await session.commit()
    return found


async def sweep(session: AsyncSession, now: datetime, start_due: Any, *, sqlite: bool) -> None:
    """Lost leases → ``unconfirmed``; due scheduled campaigns started (``start_due(session,
    campaign, now)``); campaigns with nothing queued or in flight → ``finished``."""
    active = select(Campaign.id).where(
        Campaign.state.in_(
            [CampaignState.SENDING.value, CampaignState.PAUSED.value, CampaignState.CANCELLED.value]
        )
    )
    await session.execute(
        update(CR)
        .where(
            CR.campaign_id.in_(active),
            CR.state == RecipientState.SENDING.value,
            CR.locked_until < now,
        )
        .values(
            state=RecipientState.UNCONFIRMED.value,
            last_error="the hub process stopped while this message was being handed to the "
            "provider: it may or may not have been delivered",
        )
        .execution_options(synchronize_session=False)
    )
    due = (
        select(Campaign)
        .where(Campaign.state == CampaignState.SCHEDULED.value, Campaign.scheduled_at <= now)
        .order_by(Campaign.scheduled_at)
    )
    if not sqlite:
        due = due.with_for_update(skip_locked=True)
    for campaign in list(await session.scalars(due)):
        segment = await session.get(Segment, campaign.segment_id) if campaign.segment_id else None
        if segment is None:
            campaign.state = CampaignState.CANCELLED.value
            campaign.finished_at = now
            log.warning("campaign %s: its segment is gone; cancelled", campaign.id)
            continue
        await start_due(session, campaign, now)
    await session.execute(
        update(Campaign)
        .where(
            Campaign.state == CampaignState.SENDING.value,
            ~exists().where(and_(CR.campaign_id == Campaign.id, CR.state.in_(OPEN))),
        )
        .values(state=CampaignState.FINISHED.value, finished_at=now)
        .execution_options(synchronize_session=False)
    )
