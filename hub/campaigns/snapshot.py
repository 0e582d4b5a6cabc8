"""The recipients of a send, fixed in set-based SQL when it starts.

One ``INSERT … SELECT`` copies the segment's members into ``campaign_recipients``; the same
statement chooses each one's identity and hub channel by the campaign's fallback order (the
first kind with granted consent that a configured hub channel sends to); then a few ``UPDATE``
statements (one per channel kind, never a loop over recipients) switch those who prefer
another consented channel to it.
The rest are skipped with a reason (``suppressed``, ``opted_out``, ``no_channel``,
``no_consent``), and those over the frequency cap with ``capped``. Later changes to the segment
do not touch a send under way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from channels.base import Channel
from hub.config.settings import Settings
from hub.core.customer_filters import members
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    Consent,
    ConsentState,
    RecipientState,
    Segment,
)
from hub.db.models import Customer

# Identity kinds a campaign can reach, and the hub channel kinds that send to each.
KINDS = ("email", "telegram", "slack", "web")
SENDING_KINDS = frozenset({"email", "telegram", "slack", "widget", "memory"})
KIND_ALIASES = {"widget": "web", "chat": "web"}


@dataclass(frozen=True, slots=True)
class Outlet:
    """The hub channel a campaign uses for one identity kind."""

    identity_kind: str
    channel: str  # the hub channel's name
    channel_kind: str  # its kind (email, telegram, slack, widget, memory)
    names: tuple[str, ...]  # every hub channel of this identity kind (preferred_channel values)


def outlets(settings: Settings, channels: Mapping[str, Channel]) -> dict[str, Outlet]:
    """Identity kind → the first configured hub channel that sends campaigns to it."""
    found: dict[str, list[tuple[str, str]]] = {}
    for name, channel in channels.items():
        config: Any = settings.channels.get(name) or getattr(channel, "config", None)
        if config is None or config.kind not in SENDING_KINDS:
            continue
        kind = config.recipient_kind().value
        found.setdefault(kind, []).append((name, config.kind))
    result = {}
    for kind, pairs in found.items():
        # a channel of the identity's own kind (email by an email channel) before others
        pairs.sort(key=lambda pair: (KIND_ALIASES.get(pair[1], pair[1]) != kind,))
        result[kind] = Outlet(kind, pairs[0][0], pairs[0][1], tuple(name for name, _ in pairs))
    return result


def fallback_order(campaign: Campaign, settings: Settings) -> tuple[str, ...]:
    chosen = tuple(campaign.fallback or ()) or settings.campaigns.fallback
    return tuple(dict.fromkeys(KIND_ALIASES.get(kind, kind) for kind in chosen))


def _consent(kind: str | None, state: ConsentState) -> ColumnElement[bool]:
    condition = and_(
        Consent.customer_id == CampaignRecipient.customer_id, Consent.state == state.value
    )
    return and_(condition, Consent.kind == kind) if kind is not None else condition


def _granted_identity(kind: str, customer: Any = None) -> Any:
    """The customer's first identity of ``kind`` with granted consent (correlated to
    ``customer``, by default the recipient's customer)."""
    if customer is None:
        customer = CampaignRecipient.customer_id
    return (
        select(Consent.identity_id)
        .where(
            Consent.customer_id == customer,
            Consent.state == ConsentState.GRANTED.value,
            Consent.kind == kind,
        )
        .order_by(Consent.identity_id)
        .limit(1)
        .scalar_subquery()
    )


async def take_snapshot(
    session: AsyncSession,
    campaign: Campaign,
    segment: Segment,
    settings: Settings,
    channels: Mapping[str, Channel],
    now: datetime,
) -> int:
    """Fix the recipients of ``campaign`` (in the caller's transaction); returns how many."""
    ids = members(segment.definition, now).subquery()
    routes = outlets(settings, channels)
    order = [kind for kind in fallback_order(campaign, settings) if kind in routes]
    # The fallback choice is made by the INSERT itself (one pass, no second write of every
    # row): the first kind of the order with granted consent, and its hub channel.
    granted = {kind: _granted_identity(kind, ids.c.id) for kind in order}
    choices = list(granted.values())
    # SQLite's coalesce() wants two arguments or more
    identity: Any = (
        func.coalesce(*choices) if len(choices) > 1 else choices[0] if choices else literal(None)
    )
    channel: Any = (
        case(
            *((granted[kind].is_not(None), routes[kind].channel) for kind in order),
            else_=None,
        )
        if order
        else literal(None)
    )
    await session.execute(
        insert(CampaignRecipient).from_select(
            [
                "campaign_id",
                "customer_id",
                "identity_id",
                "channel",
                "state",
                "attempts",
                "next_attempt_at",
                "queued_at",
            ],
            select(
                literal(campaign.id),
                ids.c.id,
                identity,
                channel,
                literal(RecipientState.QUEUED.value),
                literal(0),
                literal(now, CampaignRecipient.next_attempt_at.type),
                literal(now, CampaignRecipient.queued_at.type),
            ),
        )
    )
    await choose_channels(session, campaign.id, settings, routes, now)
    count = await session.scalar(
        select(func.count())
        .select_from(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id)
    )
    campaign.recipient_count = int(count or 0)
    return campaign.recipient_count


async def choose_channels(
    session: AsyncSession,
    campaign_id: int,
    settings: Settings,
    routes: Mapping[str, Outlet],
    now: datetime,
) -> None:
    """After the INSERT chose by the fallback order: the preferred channel where consented,
    the frequency cap, and the reasons of those nobody can reach."""
    cr = CampaignRecipient
    queued = and_(cr.campaign_id == campaign_id, cr.state == RecipientState.QUEUED.value)
    open_rows = and_(queued, cr.identity_id.is_(None))
    # 1. the preferred channel, when consented there (few rows: only where it differs)
    for kind in [kind for kind in KINDS if kind in routes]:
        outlet = routes[kind]
        names = {kind, *outlet.names, *(k for k, v in KIND_ALIASES.items() if v == kind)}
        preferred = and_(
            exists().where(
                Customer.id == cr.customer_id, Customer.preferred_channel.in_(sorted(names))
            ),
            or_(cr.channel.is_(None), cr.channel != outlet.channel),
        )
        await _assign(session, queued, preferred, kind, outlet)
    # 2. the frequency cap over messages sent in the last cap_days
    rules = settings.campaigns
    if rules.cap_messages > 0:
        other = aliased(CampaignRecipient)
        sent = (
            select(func.count(other.id))
            .where(
                other.customer_id == cr.customer_id,
                other.state == RecipientState.SENT.value,
                other.sent_at >= now - timedelta(days=rules.cap_days),
            )
            .scalar_subquery()
        )
        await session.execute(
            update(cr)
            .where(
                cr.campaign_id == campaign_id,
                cr.state == RecipientState.QUEUED.value,
                cr.identity_id.is_not(None),
                sent >= rules.cap_messages,
            )
            .values(state=RecipientState.SKIPPED.value, skip_reason="capped")
            .execution_options(synchronize_session=False)
        )
    # 3. nobody reachable: why
    reasons: list[tuple[str, ColumnElement[bool]]] = [
        ("suppressed", exists().where(_consent(None, ConsentState.SUPPRESSED))),
        ("opted_out", exists().where(_consent(None, ConsentState.REVOKED))),
        ("no_channel", exists().where(_consent(None, ConsentState.GRANTED))),
        ("no_consent", literal(True)),
    ]
    for reason, condition in reasons:
        await session.execute(
            update(cr)
            .where(open_rows, condition)
            .values(state=RecipientState.SKIPPED.value, skip_reason=reason)
            .execution_options(synchronize_session=False)
        )


async def _assign(
    session: AsyncSession,
    open_rows: ColumnElement[bool],
    extra: ColumnElement[bool] | None,
    kind: str,
    outlet: Outlet,
) -> None:
    cr = CampaignRecipient
    where = [open_rows, exists().where(_consent(kind, ConsentState.GRANTED))]
    if extra is not None:
        where.append(extra)
    await session.execute(
        update(cr)
        .where(*where)
        .values(identity_id=_granted_identity(kind), channel=outlet.channel)
        .execution_options(synchronize_session=False)
    )
