"""Conversations: threading inbound messages, assignment with load accounting, status changes.

An agent's ``open_count`` is the number of unresolved conversations assigned to them; every
change of assignee or status goes through this module so the count stays true. A status change
also notes the SLA clock and queues a ``status_changed`` job: the areas that care (follow-ups)
take it from the job queue, so this module needs none of them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.core import sla
from hub.core.transaction_memo import unflushed_unless
from hub.db.models import (
    Agent,
    Conversation,
    ConversationStatus,
    Customer,
    DeliveryState,
    Direction,
    Identity,
    Message,
    Ticket,
    TicketStatus,
)
from hub.db.presence_models import AgentAssignment
from hub.platform.events import publish
from hub.platform.jobs import enqueue

ACTIVE: tuple[ConversationStatus, ...] = (
    ConversationStatus.OPEN,
    ConversationStatus.PENDING,
    ConversationStatus.SNOOZED,
)
FOLLOWUP_STATUSES = (ConversationStatus.PENDING, ConversationStatus.RESOLVED)


@dataclass(frozen=True, slots=True)
class Threaded:
    conversation: Conversation
    created: bool
    reopened: bool


async def _by_reply_ids(
    session: AsyncSession, customer_id: int, reply_ids: tuple[str, ...]
) -> Conversation | None:
    if not reply_ids:
        return None
    return await session.scalar(
        select(Conversation)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.external_id.in_(reply_ids), Conversation.customer_id == customer_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def thread_message(
    session: AsyncSession,
    inbound: InboundMessage,
    customer: Customer,
    identity: Identity,
    now: datetime,
    *,
    new_customer: bool = False,
    by_channel: Conversation | None = None,
    none_known: bool = False,
    write: bool = True,
) -> Threaded:
    """The conversation this message belongs to: the one its channel area found
    (``by_channel``, e.g. mail threading), else by reply ids, by thread key, else the
    customer's active conversation on this channel, else a new one. ``new_customer``: the
    customer was created in this transaction, so has no conversation of their own yet (and
    may not be flushed: a new conversation's flush writes it and its identity first).
    ``none_known``: the caller read the customer's conversations and none has this thread key
    (or, without one, none is active on the channel): those two lookups are skipped.
    ``write=False``: a new conversation is only added to the session, and the caller flushes
    and announces it (so a batch writes the conversations it opens together)."""
    conversation = by_channel
    if conversation is None and not new_customer:
        conversation = await _by_reply_ids(session, customer.id, inbound.reply_to_ids)
    look = not (new_customer or none_known)
    if conversation is None and inbound.thread_key and look:
        conversation = await session.scalar(
            select(Conversation)
            .where(
                Conversation.channel == inbound.channel,
                Conversation.thread_key == inbound.thread_key,
                Conversation.customer_id == customer.id,
            )
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    if conversation is None and not inbound.thread_key and look:
        conversation = await session.scalar(
            select(Conversation)
            .where(
                Conversation.customer_id == customer.id,
                Conversation.channel == inbound.channel,
                Conversation.status.in_(ACTIVE),
            )
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    if conversation is not None:
        reopened = conversation.status != ConversationStatus.OPEN
        if reopened:
            await set_status(session, conversation, ConversationStatus.OPEN, now)
        return Threaded(conversation, created=False, reopened=reopened)
    conversation = Conversation(
        token=secrets.token_hex(8),
        customer_id=customer.id,
        identity_id=identity.id,
        channel=inbound.channel,
        thread_key=inbound.thread_key,
        subject=(inbound.subject or _subject_from(inbound.text))[:500],
        status=ConversationStatus.OPEN,
        priority="normal",
        created_at=now,
        first_inbound_at=now,
        last_inbound_at=now,
        last_activity_at=now,
    )
    if customer.id is None:  # a new customer (and identity): written first by this flush
        conversation.customer = customer
    if identity.id is None:
        conversation.identity = identity
    session.add(conversation)
    if write:
        await session.flush()
        await announce_created(session, conversation, now)
    return Threaded(conversation, created=True, reopened=False)


def _subject_from(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= 80 else first[:77] + "..."


async def _adjust_load(session: AsyncSession, agent_id: int | None, delta: int) -> None:
    if agent_id is None or delta == 0:
        return
    await session.execute(
        update(Agent)
        .where(Agent.id == agent_id)
        .values(open_count=Agent.open_count + delta)
        .execution_options(synchronize_session=False)
    )


async def reserve_capacity(session: AsyncSession, agent_id: int) -> bool:
    """Take one unit of the agent's capacity if they have any left (safe across processes)."""
    with unflushed_unless(session, Agent):
        result = await session.execute(
            update(Agent)
            .where(Agent.id == agent_id, Agent.open_count < Agent.capacity)
            .values(open_count=Agent.open_count + 1)
            .execution_options(synchronize_session=False)
        )
    return bool(getattr(result, "rowcount", 0))


async def announce_created(
    session: AsyncSession, conversation: Conversation, now: datetime
) -> None:
    """A new conversation (flushed, so it has its id) is on the event log (webhooks hear it)."""
    await publish(session, "conversation_created", conversation, now)


async def log_event(
    session: AsyncSession,
    conversation: Conversation,
    text: str,
    now: datetime,
    agent_id: int | None = None,
    **facts: Any,
) -> None:
    """A line in the timeline; ``facts`` say what changed (status, assignee, priority and their
    previous values), kept with the line (``raw``) and on the event log, so readers go by them
    and never by the line's wording."""
    session.add(
        Message(
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            direction=Direction.EVENT,
            channel=conversation.channel,
            author_agent_id=agent_id,
            # Every column with a default given, as the ingest's messages give them: rows of
            # the same columns go in together, in one statement per flush.
            subject="",
            text=text,
            attachments=[],
            raw=dict(facts),
            automated=False,
            delivery_state=DeliveryState.NONE,
            created_at=now,
        )
    )
    await publish(session, "activity", conversation, now, text=text, actor_id=agent_id, **facts)


async def assign(
    session: AsyncSession,
    conversation: Conversation,
    agent_id: int | None,
    now: datetime,
    *,
    reserved: bool = False,
    actor_id: int | None = None,
    agent_name: str | None = None,
) -> None:
    """Give the conversation to ``agent_id`` (None: unassign). ``reserved`` means the caller
    already took the capacity unit with ``reserve_capacity``; ``agent_name``: the agent's
    name, when the caller read it (else it is read here)."""
    if conversation.assignee_id == agent_id:
        return
    counts = conversation.status in ACTIVE
    if counts:
        await _adjust_load(session, conversation.assignee_id, -1)
        if not reserved:
            await _adjust_load(session, agent_id, +1)
    elif reserved:
        await _adjust_load(session, agent_id, -1)
    previous = conversation.assignee_id
    conversation.assignee_id = agent_id
    conversation.last_activity_at = now
    if agent_id is None:
        await log_event(
            session, conversation, "Unassigned", now, actor_id,
            assigned_to=None, assigned_from=previous,
        )  # fmt: skip
    else:
        session.add(
            AgentAssignment(conversation_id=conversation.id, agent_id=agent_id, assigned_at=now)
        )
        name = agent_name
        if name is None:
            with unflushed_unless(session, Agent):
                agent = await session.get(Agent, agent_id)
            name = agent.name if agent else f"agent {agent_id}"
        await log_event(
            session, conversation, f"Assigned to {name}", now, actor_id,
            assigned_to=agent_id, assigned_from=previous,
        )  # fmt: skip


async def set_status(
    session: AsyncSession,
    conversation: Conversation,
    status: ConversationStatus,
    now: datetime,
    *,
    actor_id: int | None = None,
) -> None:
    if conversation.status == status:
        return
    was_active = conversation.status in ACTIVE
    is_active = status in ACTIVE
    if was_active and not is_active:
        await _adjust_load(session, conversation.assignee_id, -1)
    elif is_active and not was_active:
        await _adjust_load(session, conversation.assignee_id, +1)
    previous = str(conversation.status)
    conversation.status = status
    conversation.last_activity_at = now
    conversation.resolved_at = now if status == ConversationStatus.RESOLVED else None
    await _sync_ticket(session, conversation, status, now)
    text = f"Status changed to {status.value}"
    await log_event(
        session, conversation, text, now, actor_id, status=str(status), previous_status=previous
    )
    await _status_changed(session, conversation, status, now)


async def anchor_message(session: AsyncSession, conversation_id: int) -> int:
    """The latest message a person wrote (customer or agent) in the conversation; a
    follow-up scheduled at this anchor is void once a newer one exists."""
    latest = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction.in_((Direction.INBOUND, Direction.OUTBOUND)),
            Message.automated.is_(False),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return int(latest or 0)


async def _status_changed(
    session: AsyncSession, conversation: Conversation, status: str, now: datetime
) -> None:
    """The SLA clock hears of it; pending and resolved queue a job for the follow-ups."""
    await sla.note_status(session, conversation.id, status, now)
    if status in FOLLOWUP_STATUSES:
        await session.flush()
        anchor = await anchor_message(session, conversation.id)
        await enqueue(
            session,
            "status_changed",
            now,
            conversation_id=conversation.id,
            payload={"status": str(status), "anchor": anchor, "at": now.isoformat()},
        )


TICKET_STATUS = {
    ConversationStatus.OPEN: TicketStatus.OPEN,
    ConversationStatus.PENDING: TicketStatus.PENDING,
    ConversationStatus.SNOOZED: TicketStatus.PENDING,
    ConversationStatus.RESOLVED: TicketStatus.SOLVED,
}


async def _sync_ticket(
    session: AsyncSession, conversation: Conversation, status: ConversationStatus, now: datetime
) -> None:
    """The conversation's open tickets follow its status (closed tickets stay closed); a
    ticket whose status changed is on the event log."""
    tickets = await session.scalars(
        select(Ticket).where(
            Ticket.conversation_id == conversation.id, Ticket.status != TicketStatus.CLOSED
        )
    )
    for ticket in tickets.all():
        previous, ticket.status, ticket.updated_at = ticket.status, TICKET_STATUS[status], now
        if previous != ticket.status:
            await ticket_changed(session, conversation, ticket, now, ["status"])


async def ticket_changed(
    session: AsyncSession,
    conversation: Conversation,
    ticket: Ticket,
    now: datetime,
    changed: list[str],
) -> None:
    await publish(
        session, "ticket_updated", conversation, now, ticket_id=ticket.id, changed=changed
    )
