"""Agent replies and private notes on a conversation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.tickets import ticket_for
from hub.db.models import Agent, Conversation, DeliveryState, Direction, Message
from hub.outbound.compose import queue_outbound, reply_route
from hub.outbound.templates import FollowupRenderer
from hub.routing.hooks import on_agent_reply


class NoRecipient(Exception):
    """The customer has no address the conversation's reply channel can reach."""


async def add_note(
    session: AsyncSession, conversation: Conversation, agent: Agent, text: str, now: datetime
) -> Message:
    note = Message(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        direction=Direction.NOTE,
        channel=conversation.channel,
        author_agent_id=agent.id,
        text=text,
        attachments=[],
        raw={},
        delivery_state=DeliveryState.NONE,
        created_at=now,
    )
    session.add(note)
    conversation.last_activity_at = now
    await session.flush()
    return note


def reply_subject(conversation: Conversation, ticket_number: int | None) -> str:
    subject = conversation.subject or "Your request"
    if not subject.lower().startswith("re:"):
        subject = f"Re: {subject}"
    if ticket_number is not None and f"#{ticket_number}" not in subject:
        subject = f"{subject} [#{ticket_number}]"
    return subject


async def send_reply(
    session: AsyncSession,
    settings: Settings,
    renderer: FollowupRenderer,
    conversation: Conversation,
    agent: Agent,
    text: str,
    now: datetime,
) -> Message:
    ticket = await ticket_for(session, conversation.id)
    context = {
        "text": text,
        "agent": {"name": agent.name},
        "instance_name": settings.instance_name,
        "ticket": {"number": ticket.number if ticket else None},
    }
    rendered = renderer.render("agent_reply", context)
    message = await queue_outbound(
        session,
        settings,
        conversation,
        via=reply_route(settings, conversation.channel),
        text=rendered.text,
        subject=reply_subject(conversation, ticket.number if ticket else None),
        html=rendered.html,
        now=now,
        author_agent_id=agent.id,
    )
    if message is None:
        raise NoRecipient
    if conversation.first_response_at is None:
        conversation.first_response_at = now
    conversation.last_activity_at = now
    await on_agent_reply(session, conversation, message, now)
    return message
