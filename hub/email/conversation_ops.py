"""Agents' corrections to threading: split a received message off into a new conversation, and
merge one conversation into another. Later mail follows: replies to a split message reference
it and land in the new conversation; mail for a merged conversation lands in the target."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.conversations import announce_created, assign, log_event, set_status
from hub.core.tickets import open_ticket
from hub.db.email_models import ConversationMerge, EmailParticipant
from hub.db.models import Conversation, ConversationStatus, Direction, Message


class OperationRefused(Exception):
    """The split or merge does not make sense; the message says why."""


async def split_message(
    session: AsyncSession, settings: Settings, message: Message, agent_id: int, now: datetime
) -> Conversation:
    if message.direction != Direction.INBOUND:
        raise OperationRefused("only a received message can be split into a new conversation")
    source = await session.get(Conversation, message.conversation_id)
    assert source is not None
    others = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.conversation_id == source.id,
            Message.id != message.id,
            Message.direction.in_((Direction.INBOUND, Direction.OUTBOUND)),
        )
    )
    if not others:
        raise OperationRefused("this is the conversation's only message; there is nothing to split")
    conversation = Conversation(
        token=secrets.token_hex(8),
        customer_id=message.customer_id,
        identity_id=message.identity_id,
        channel=message.channel,
        thread_key=message.external_id,
        subject=(message.subject or source.subject)[:500],
        status=ConversationStatus.OPEN,
        priority=source.priority,
        team_id=source.team_id,
        created_at=now,
        first_inbound_at=message.created_at,
        last_inbound_at=message.created_at,
        last_activity_at=now,
    )
    session.add(conversation)
    await session.flush()
    await announce_created(session, conversation, now)
    message.conversation_id = conversation.id
    sla = next((t for p, t in settings.sla.items() if p == conversation.priority), None)
    await open_ticket(session, conversation, sla, now)
    if source.assignee_id is not None:
        await assign(session, conversation, source.assignee_id, now, actor_id=agent_id)
    await log_event(
        session,
        source,
        f"Message {message.id} split into conversation {conversation.id}",
        now,
        agent_id,
    )
    await log_event(session, conversation, f"Split from conversation {source.id}", now, agent_id)
    source.last_activity_at = now
    await session.flush()
    return conversation


async def merge_conversations(
    session: AsyncSession,
    source: Conversation,
    target: Conversation,
    agent_id: int,
    now: datetime,
) -> None:
    if source.id == target.id:
        raise OperationRefused("a conversation cannot be merged into itself")
    if await session.get(ConversationMerge, source.id) is not None:
        raise OperationRefused(f"conversation {source.id} was already merged")
    if await session.get(ConversationMerge, target.id) is not None:
        raise OperationRefused(f"conversation {target.id} was merged into another one")
    await session.execute(
        update(Message)
        .where(Message.conversation_id == source.id)
        .values(conversation_id=target.id)
        .execution_options(synchronize_session=False)
    )
    known = set(
        (
            await session.scalars(
                select(EmailParticipant.address).where(
                    EmailParticipant.conversation_id == target.id
                )
            )
        ).all()
    )
    moving = await session.scalars(
        select(EmailParticipant).where(EmailParticipant.conversation_id == source.id)
    )
    for participant in moving:
        if participant.address not in known:
            participant.conversation_id = target.id
    session.add(
        ConversationMerge(
            source_id=source.id, target_id=target.id, agent_id=agent_id, created_at=now
        )
    )
    source.thread_key = None
    if target.status != ConversationStatus.OPEN:
        await set_status(session, target, ConversationStatus.OPEN, now, actor_id=agent_id)
    await set_status(session, source, ConversationStatus.RESOLVED, now, actor_id=agent_id)
    await log_event(session, source, f"Merged into conversation {target.id}", now, agent_id)
    await log_event(
        session, target, f"Conversation {source.id} was merged into this one", now, agent_id
    )
    target.last_activity_at = now
    await session.flush()
