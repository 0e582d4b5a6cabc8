"""What the routing area adds to other areas' work: it hears of agent replies (facts recorded
and a job scheduled in the caller's transaction; no settings needed, so any caller can use it),
and it plugs the routing engine into ingest. Status changes reach it as ``status_changed`` jobs
queued by ``hub.core.conversations``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.core import sla
from hub.db.bots_models import BotSession
from hub.db.models import Conversation, Message
from hub.db.routing_models import ConversationRouting
from hub.inbound.hooks import ChannelHooks, IngestHooks
from hub.platform.jobs import enqueue
from hub.routing.csat import digit_reply
from hub.routing.engine import RoutingEngine


def ingest_hooks(engine: RoutingEngine, *channels: ChannelHooks) -> IngestHooks:
    """The ingest hooks with ``engine`` routing every message and the channel areas' own
    steps; a bare digit may answer a survey, so it never takes the batch's bulk path."""
    return IngestHooks(engine, channels, router_claims=_may_answer_survey)


def _may_answer_survey(inbound: InboundMessage) -> bool:
    return digit_reply(inbound.text) is not None


async def on_agent_reply(
    session: AsyncSession, conversation: Conversation, message: Message, now: datetime
) -> None:
    await sla.note_agent_reply(session, conversation.id, now)
    routing = await session.get(ConversationRouting, conversation.id)
    if routing is not None and routing.bot_active:
        routing.bot_active = False  # a person took over from the bot
    await session.execute(
        update(BotSession)
        .where(BotSession.conversation_id == conversation.id, BotSession.state != "human")
        .values(
            state="human",
            human_at=now,
            handoff_at=func.coalesce(BotSession.handoff_at, now),
            reason=func.coalesce(BotSession.reason, "agent_took_over"),
        )
    )
    await enqueue(
        session,
        "agent_replied",
        now,
        conversation_id=conversation.id,
        payload={"anchor": message.id, "at": now.isoformat()},
        dedupe_key=f"agent_replied:{message.id}",
    )
