"""Service tickets: human-readable numbers from a counter row, SLA due times by priority."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Conversation, Counter, Ticket
from hub.settings import SlaTarget

FIRST_TICKET_NUMBER = 1000


async def next_number(session: AsyncSession, name: str) -> int:
    """Increment a named counter and return the new value (row-locked on PostgreSQL)."""
    value = await session.scalar(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
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
        number=await next_number(session, "ticket"),
        conversation_id=conversation.id,
        subject=conversation.subject,
        priority=conversation.priority,
        first_response_due_at=now + timedelta(minutes=sla.first_response_minutes) if sla else None,
        resolution_due_at=now + timedelta(minutes=sla.resolution_minutes) if sla else None,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    return ticket


async def ticket_for(session: AsyncSession, conversation_id: int) -> Ticket | None:
    return await session.scalar(
        select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id.desc())
    )
