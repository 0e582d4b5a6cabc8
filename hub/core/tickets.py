"""Service tickets: human-readable numbers from a counter row, SLA due times by priority, and
priority changes that re-apply the SLA policy."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings, SlaTarget
from hub.core import sla as sla_clock
from hub.core.conversations import log_event, ticket_changed
from hub.core.transaction_memo import memo, unflushed_unless
from hub.db.base import table_of
from hub.db.models import Conversation, Counter, Customer, Team, Ticket
from hub.db.routing_models import SlaClock

FIRST_TICKET_NUMBER = 1000
TICKET_COUNTER = "ticket"


# Built once, on the table (no counter is ever loaded as a row): building and hashing a
# statement costs more than running it, and an ORM update would flush what is pending first.
_COUNTERS = table_of(Counter).c
_INCREMENT = (
    update(table_of(Counter))
    .where(_COUNTERS.name == bindparam("counter"))
    .values(value=_COUNTERS.value + 1)
    .returning(_COUNTERS.value)
)


_ADD = (
    update(table_of(Counter))
    .where(_COUNTERS.name == bindparam("counter"))
    .values(value=_COUNTERS.value + bindparam("count"))
    .returning(_COUNTERS.value)
)


def _reserved(session: AsyncSession, name: str) -> deque[int]:
    reserved: deque[int] = memo(session).setdefault(f"reserved:{name}", deque())
    return reserved


async def reserve_numbers(session: AsyncSession, name: str, count: int) -> None:
    """Take the counter's next ``count`` values in one update for what the transaction is
    about to number (a batch's new tickets): ``next_number`` hands them out in order, and
    ``release_numbers`` gives back those left, so the numbers stay without gaps. The counter
    row stays locked to the transaction on PostgreSQL, as after ``next_number``."""
    if count < 2 or _reserved(session, name):
        return
    with unflushed_unless(session, Counter):
        top = await session.scalar(_ADD, {"counter": name, "count": count})
    if top is not None:  # else no counter yet: the first next_number creates it
        _reserved(session, name).extend(range(int(top) - count + 1, int(top) + 1))


async def release_numbers(session: AsyncSession, name: str) -> None:
    """Give back the reserved values nobody took (the counter's last ones: while some are
    reserved, ``next_number`` takes no other)."""
    reserved = _reserved(session, name)
    if reserved:
        with unflushed_unless(session, Counter):
            await session.execute(_ADD, {"counter": name, "count": -len(reserved)})
        reserved.clear()


async def next_number(session: AsyncSession, name: str) -> int:
    """Increment a named counter and return the new value (row-locked on PostgreSQL). Pending
    rows stay pending: the counter needs none of them. A value reserved by
    ``reserve_numbers`` is taken first."""
    reserved = _reserved(session, name)
    if reserved:
        return reserved.popleft()
    with unflushed_unless(session, Counter):
        value = await session.scalar(_INCREMENT, {"counter": name})
    if value is not None:
        return int(value)
    try:
        async with session.begin_nested():
            await session.execute(insert(Counter).values(name=name, value=FIRST_TICKET_NUMBER))
        return FIRST_TICKET_NUMBER
    except IntegrityError:
        return await next_number(session, name)


async def open_ticket(
    session: AsyncSession, conversation: Conversation, sla: SlaTarget | None, now: datetime
) -> Ticket:
    ticket = Ticket(
        number=await next_number(session, TICKET_COUNTER),
        conversation_id=conversation.id,
        subject=conversation.subject,
        priority=conversation.priority,
        first_response_due_at=now + timedelta(minutes=sla.first_response_minutes) if sla else None,
        resolution_due_at=now + timedelta(minutes=sla.resolution_minutes) if sla else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    if conversation.sla_due_at is None:  # no SLA clock set it (the monitor corrects it if one did)
        conversation.sla_due_at = sla_clock.next_due(conversation, None, ticket)
    return ticket


def reply_subject(conversation: Conversation, ticket_number: int | None) -> str:
    """The subject of an answer: "Re:" the conversation's, with its ticket number."""
    subject = conversation.subject or "Your request"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    if ticket_number is not None and f"#{ticket_number}" not in subject:
        subject = f"{subject} [#{ticket_number}]"
    return subject


async def ticket_for(session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
    )


async def change_priority(
    session: AsyncSession,
    settings: Settings,
    conversation: Conversation,
    priority: str,
    now: datetime,
    actor_id: int | None = None,
) -> bool:
    """Set the priority and re-apply the SLA policy for it: the clock takes the new policy
    (targets already met stay met), the ticket's priority and due times and ``sla_due_at``
    follow, and the conversation records it. False when the priority is unchanged."""
    if conversation.priority == priority:
        return False
    previous = conversation.priority
    conversation.priority = priority
    customer = await session.get(Customer, conversation.customer_id)
    team = await session.scalar(select(Team.slug).where(Team.id == conversation.team_id))
    tier = customer.tier if customer else "standard"
    policy = sla_clock.policy_for(settings, priority, tier, team)
    clock = await session.get(SlaClock, conversation.id)
    if clock is None and policy is not None:
        clock = sla_clock.start_clock(
            session, conversation, policy, conversation.first_inbound_at or conversation.created_at
        )
        clock.first_responded_at = conversation.first_response_at
        if conversation.status in sla_clock.PAUSED:
            clock.pauses = [[now.isoformat(), None]]
            clock.resolved_at = conversation.resolved_at
    elif clock is not None and policy is None:
        await session.delete(clock)
        clock = None
    if clock is not None and policy is not None:
        clock.policy = policy.name
        sla_clock.recompute(clock, policy, settings)
    ticket = await ticket_for(session, conversation.id)
    if ticket is not None:
        ticket.priority = priority
        ticket.updated_at = now
        await ticket_changed(session, conversation, ticket, now, ["priority"])
        if clock is not None and policy is not None:
            sla_clock.sync_ticket(ticket, clock, policy, settings, now)
        else:
            if conversation.first_response_at is None:
                ticket.first_response_due_at = None
            if conversation.resolved_at is None:
                ticket.resolution_due_at = None
    conversation.sla_due_at = sla_clock.next_due(conversation, clock, ticket)
    text = f"Priority changed to {priority}"
    if conversation.sla_due_at is not None:
        text += f"; next SLA deadline {conversation.sla_due_at:%Y-%m-%d %H:%M} UTC"
    await log_event(
        session, conversation, text, now, actor_id, priority=priority, previous_priority=previous
    )
    return True
