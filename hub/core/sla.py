"""SLA clocks. A policy (chosen by priority and customer tier) sets first-response,
next-response and resolution targets in business time of its calendar. The clock keeps facts:
when it started, when it was paused (waiting on the customer, or resolved), when the customer
is waiting for an answer; due times are computed from those facts with the calendar.

The ``note_*`` functions record facts and need no settings, so they can run wherever a status
changes; ``recompute`` turns facts into due times. ``sync_due`` writes the next deadline to the
conversation's indexed ``sla_due_at`` (the inbox sorts and filters by it): the note functions call
it with what they know, the monitor after every recompute."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import SlaPolicy
from hub.config.settings import Settings
from hub.core.calendar import BusinessCalendar, CalendarClosed, calendar_named
from hub.db.models import (
    Conversation,
    ConversationStatus,
    DeliveryState,
    Direction,
    Message,
    Ticket,
)
from hub.db.routing_models import SlaClock

METRICS = ("first_response", "next_response", "resolution")
PAUSED = (ConversationStatus.PENDING, ConversationStatus.SNOOZED, ConversationStatus.RESOLVED)


TEAM_MARK = " @ "  # "standard @ billing": a policy on the billing team's calendar


def policy_for(
    settings: Settings, priority: str, tier: str, team: str | None = None
) -> SlaPolicy | None:
    """The first configured policy for this priority and tier, else the plain ``[sla]`` table;
    on the team's calendar when the policy names none. A policy that is some team's default
    (``[admin.teams.SLUG] sla_policy``) applies to that team's conversations only, and to all
    of them when none before it in the list matches."""
    teams = settings.admin.teams
    own = teams[team].sla_policy if team in teams else None
    reserved = {t.sla_policy for t in teams.values() if t.sla_policy} - {own}
    for policy in settings.sla_policies:
        if policy.name in reserved:
            continue
        if policy.name == own or (
            (not policy.priorities or priority in policy.priorities)
            and (not policy.tiers or tier in policy.tiers)
        ):
            return _on_team_calendar(settings, policy, team)
    return _on_team_calendar(settings, _plain(settings, priority), team)


def _on_team_calendar(
    settings: Settings, policy: SlaPolicy | None, team: str | None
) -> SlaPolicy | None:
    defaults = settings.admin.teams.get(team or "")
    if policy is None or policy.calendar or defaults is None or not defaults.calendar:
        return policy
    name = f"{policy.name}{TEAM_MARK}{team}"
    return policy.model_copy(update={"name": name, "calendar": defaults.calendar})


def _plain(settings: Settings, priority: str) -> SlaPolicy | None:
    target = next((t for p, t in settings.sla.items() if p == priority), None)
    if target is None:
        return None
    return SlaPolicy(
        name=f"default {priority}",
        first_response_minutes=target.first_response_minutes,
        resolution_minutes=target.resolution_minutes,
    )


def policy_named(settings: Settings, name: str) -> SlaPolicy | None:
    if TEAM_MARK in name:
        base, _, team = name.rpartition(TEAM_MARK)
        return _on_team_calendar(settings, policy_named(settings, base), team)
    for policy in settings.sla_policies:
        if policy.name == name:
            return policy
    if name.startswith("default "):
        return _plain(settings, name.removeprefix("default "))
    return None


def start_clock(
    session: AsyncSession, conversation: Conversation, policy: SlaPolicy, now: datetime
) -> SlaClock:
    clock = SlaClock(
        conversation_id=conversation.id,
        policy=policy.name,
        started_at=now,
        pauses=[],
        dirty=True,
    )
    session.add(clock)
    return clock


def _paused_since(clock: SlaClock) -> str | None:
    if clock.pauses and clock.pauses[-1][1] is None:
        return clock.pauses[-1][0]
    return None


async def note_status(
    session: AsyncSession, conversation_id: int, status: str, now: datetime
) -> None:
    """A status change: waiting on the customer or resolved pauses the clock, open resumes it."""
    clock = await session.get(SlaClock, conversation_id)
    if clock is None:
        await sync_due(session, conversation_id, None)
        return
    paused = _paused_since(clock) is not None
    if status in PAUSED and not paused:
        clock.pauses = [*clock.pauses, [now.isoformat(), None]]
    elif status not in PAUSED and paused:
        clock.pauses = [*clock.pauses[:-1], [clock.pauses[-1][0], now.isoformat()]]
    clock.resolved_at = now if status == ConversationStatus.RESOLVED else None
    if status == ConversationStatus.RESOLVED:
        clock.awaiting_since = None
    clock.dirty = True
    await sync_due(session, conversation_id, clock)


async def note_agent_reply(session: AsyncSession, conversation_id: int, now: datetime) -> None:
    clock = await session.get(SlaClock, conversation_id)
    if clock is not None:
        if clock.first_responded_at is None:
            clock.first_responded_at = now
        clock.awaiting_since = None
        clock.dirty = True
    await sync_due(session, conversation_id, clock)


async def recount_responses(session: AsyncSession, conversation_id: int) -> None:
    """A person's reply failed for good (or was delivered after all): the first response and
    the customer's wait are what the replies that did not fail say. A failed delivery never
    counts as an answer."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return
    answered = (
        await session.scalars(
            select(Message.created_at)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.OUTBOUND,
                Message.author_agent_id.is_not(None),
                Message.automated.is_(False),
                Message.delivery_state != DeliveryState.FAILED,
            )
            .order_by(Message.created_at, Message.id)
        )
    ).all()
    first = answered[0] if answered else None
    conversation.first_response_at = first
    clock = await session.get(SlaClock, conversation_id)
    if clock is not None:
        clock.first_responded_at = first
        clock.awaiting_since = None
        if answered and clock.resolved_at is None:
            clock.awaiting_since = await session.scalar(
                select(func.min(Message.created_at)).where(
                    Message.conversation_id == conversation_id,
                    Message.direction == Direction.INBOUND,
                    Message.created_at > answered[-1],
                )
            )
        clock.dirty = True
    await sync_due(session, conversation_id, clock)


async def note_customer_message(session: AsyncSession, conversation_id: int, now: datetime) -> None:
    """The customer wrote again after an answer: the next-response clock starts."""
    clock = await session.get(SlaClock, conversation_id)
    if clock is None or clock.first_responded_at is None or clock.awaiting_since is not None:
        return
    clock.awaiting_since = now
    clock.dirty = True


def _paused_seconds(clock: SlaClock, calendar: BusinessCalendar, after: datetime) -> float:
    total = 0.0
    for start, end in clock.pauses:
        if start is None or end is None:
            continue
        begin = max(datetime.fromisoformat(start), after)
        total += calendar.open_seconds(begin, datetime.fromisoformat(end))
    return total


def _due(
    calendar: BusinessCalendar, start: datetime, minutes: int | None, paused: float
) -> datetime | None:
    if minutes is None:
        return None
    try:
        return calendar.add(start, minutes * 60 + paused)
    except CalendarClosed:
        return None


def projected(
    clock: SlaClock, policy: SlaPolicy, settings: Settings, now: datetime
) -> tuple[datetime | None, datetime | None]:
    """First-response and resolution due times as if the clock ran from now on (an open pause
    counts until now): what a ticket shows, met or paused or not."""
    calendar = calendar_named(settings.calendars, policy.calendar)
    paused = _paused_seconds(clock, calendar, clock.started_at)
    since = _paused_since(clock)
    if since is not None:
        begin = max(datetime.fromisoformat(since), clock.started_at)
        paused += calendar.open_seconds(begin, max(begin, now))
    return (
        _due(calendar, clock.started_at, policy.first_response_minutes, paused),
        _due(calendar, clock.started_at, policy.resolution_minutes, paused),
    )


def recompute(clock: SlaClock, policy: SlaPolicy, settings: Settings) -> None:
    """Due times from the clock's facts; none while paused or once met."""
    calendar = calendar_named(settings.calendars, policy.calendar)
    running = _paused_since(clock) is None
    paused = _paused_seconds(clock, calendar, clock.started_at)
    clock.first_due_at = (
        _due(calendar, clock.started_at, policy.first_response_minutes, paused)
        if running and clock.first_responded_at is None
        else None
    )
    clock.resolution_due_at = (
        _due(calendar, clock.started_at, policy.resolution_minutes, paused)
        if running and clock.resolved_at is None
        else None
    )
    clock.next_due_at = (
        _due(calendar, clock.awaiting_since, policy.next_response_minutes, 0.0)
        if running and clock.awaiting_since is not None
        else None
    )
    clock.alert_at = next_alert(clock, policy)
    clock.dirty = False


def next_alert(
    clock: SlaClock, policy: SlaPolicy, after: datetime | None = None
) -> datetime | None:
    """When the SLA sweep next has something to do for the clock: the earliest warning or
    breach time (later than ``after``, the sweep's last look, when given)."""
    warn = timedelta(minutes=policy.warn_before_minutes)
    times = [
        moment
        for due in due_times(clock).values()
        if due is not None
        for moment in (due - warn, due)
        if after is None or moment > after
    ]
    return min(times, default=None)


def due_times(clock: SlaClock) -> dict[str, datetime | None]:
    return {
        "first_response": clock.first_due_at,
        "next_response": clock.next_due_at,
        "resolution": clock.resolution_due_at,
    }


def next_due(
    conversation: Conversation, clock: SlaClock | None, ticket: Ticket | None
) -> datetime | None:
    """The next SLA deadline that applies: first response until answered (or resolution, if
    that falls earlier), then resolution. None while the clock is paused (pending, snoozed,
    resolved) and without an SLA. The clock decides where there is one, else the ticket."""
    if conversation.status in PAUSED:
        return None
    answered = conversation.first_response_at is not None
    if clock is not None:
        answered = answered or clock.first_responded_at is not None
        first, resolution = clock.first_due_at, clock.resolution_due_at
    elif ticket is not None:
        first, resolution = ticket.first_response_due_at, ticket.resolution_due_at
    else:
        return None
    present = [due for due in (None if answered else first, resolution) if due is not None]
    return min(present) if present else None


async def latest_ticket(session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
    )


async def sync_due(session: AsyncSession, conversation_id: int, clock: SlaClock | None) -> None:
    """Write ``sla_due_at`` from the clock (``None``: the conversation has none; its ticket)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None:
        return
    ticket = None
    if clock is None and conversation.status not in PAUSED:
        ticket = await latest_ticket(session, conversation_id)
    conversation.sla_due_at = next_due(conversation, clock, ticket)


def sync_ticket(
    ticket: Ticket, clock: SlaClock, policy: SlaPolicy, settings: Settings, now: datetime
) -> None:
    """The ticket shows the clock's due times; a met target keeps the due time it had."""
    first, resolution = projected(clock, policy, settings, now)
    if clock.first_responded_at is None and ticket.first_response_due_at != first:
        ticket.first_response_due_at = first
        ticket.updated_at = now
    if clock.resolved_at is None and ticket.resolution_due_at != resolution:
        ticket.resolution_due_at = resolution
        ticket.updated_at = now
