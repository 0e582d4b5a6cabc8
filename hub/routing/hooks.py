"""What the routing engine must hear about, called from the services that change conversations
(status changes, agent replies). These only record facts and schedule jobs in the caller's
transaction; they need no settings, so any caller can use them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core import sla
from hub.db.models import Conversation, ConversationStatus, Direction, Message
from hub.db.routing_models import ConversationRouting
from hub.platform.jobs import enqueue

FOLLOWUP_STATUSES = (ConversationStatus.PENDING, ConversationStatus.RESOLVED)


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


async def on_status_change(
    session: AsyncSession, conversation: Conversation, status: str, now: datetime
) -> None:
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


async def on_agent_reply(
    session: AsyncSession, conversation: Conversation, message: Message, now: datetime
) -> None:
    await sla.note_agent_reply(session, conversation.id, now)
    routing = await session.get(ConversationRouting, conversation.id)
    if routing is not None and routing.bot_active:
        routing.bot_active = False  # a person took over from the bot
    await enqueue(
        session,
        "agent_replied",
        now,
        conversation_id=conversation.id,
        payload={"anchor": message.id, "at": now.isoformat()},
        dedupe_key=f"agent_replied:{message.id}",
    )
