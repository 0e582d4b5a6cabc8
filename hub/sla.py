"""SLA clocks. A policy (chosen by priority and customer tier) sets first-response,
next-response and resolution targets in business time of its calendar. The clock keeps facts:
when it started, when it was paused (waiting on the customer, or resolved), when the customer
is waiting for an answer; due times are computed from those facts with the calendar.

The ``note_*`` functions record facts and need no settings, so they can run wherever a status
changes; ``recompute`` turns facts into due times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.calendar import BusinessCalendar, CalendarClosed, calendar_named
from hub.db.models import Conversation, ConversationStatus
from hub.db.routing_models import SlaClock
from hub.routing_settings import SlaPolicy
from hub.settings import Settings

METRICS = ("first_response", "next_response", "resolution")
PAUSED = (ConversationStatus.PENDING, ConversationStatus.SNOOZED, ConversationStatus.RESOLVED)


def policy_for(settings: Settings, priority: str, tier: str) -> SlaPolicy | None:
    """The first configured policy for this priority and tier, else the plain ``[sla]`` table."""
    for policy in settings.sla_policies:
        if (not policy.priorities or priority in policy.priorities) and (
            not policy.tiers or tier in policy.tiers
        ):
            return policy
    return _plain(settings, priority)


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


async def note_agent_reply(session: AsyncSession, conversation_id: int, now: datetime) -> None:
    clock = await session.get(SlaClock, conversation_id)
    if clock is None:
        return
    if clock.first_responded_at is None:
        clock.first_responded_at = now
    clock.awaiting_since = None
    clock.dirty = True


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
    clock.dirty = False


def due_times(clock: SlaClock) -> dict[str, datetime | None]:
    return {
        "first_response": clock.first_due_at,
        "next_response": clock.next_due_at,
        "resolution": clock.resolution_due_at,
    }
