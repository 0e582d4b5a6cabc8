"""The handoff, enforced by the hub: a conversation a bot serves is in one state, ``bot`` ->
``pending_human`` -> ``human`` (-> ``bot`` when an agent hands it back). Only these functions
change it, in the caller's transaction: the handoff logs the reason in the timeline, tells the
agents on the live channel, starts the SLA first-response clock and routes by the normal rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import texts
from hub.config.settings import Settings
from hub.core import sla
from hub.core.conversations import log_event
from hub.db.bots_models import Bot, BotSession
from hub.db.models import Conversation
from hub.db.routing_models import ConversationRouting, SlaClock
from hub.platform.events import publish
from hub.routing.assignment import assign_or_queue

BOT = "bot"
PENDING = "pending_human"
HUMAN = "human"
EVENT = "bot_handoff"


async def locked_session(session: AsyncSession, conversation_id: int) -> BotSession | None:
    """The conversation's bot state, locked for the rest of the transaction."""
    return await session.get(BotSession, conversation_id, with_for_update=True)


async def _restart_sla(
    session: AsyncSession, settings: Settings, conversation: Conversation, now: datetime
) -> None:
    clock = await session.get(SlaClock, conversation.id)
    if clock is None or clock.first_responded_at is not None:
        return
    policy = sla.policy_named(settings, clock.policy)
    clock.started_at = now
    clock.dirty = True
    if policy is not None:
        sla.recompute(clock, policy, settings)
        conversation.sla_due_at = sla.next_due(conversation, clock, None)


async def hand_off(
    session: AsyncSession,
    settings: Settings,
    state: BotSession,
    bot: Bot,
    reason: str,
    now: datetime,
    detail: str | None = None,
) -> bool:
    """From ``bot`` to ``pending_human``; False (nothing done) if a person has it already."""
    if state.state != BOT:
        return False
    conversation = await session.get(Conversation, state.conversation_id)
    routing = await session.get(ConversationRouting, state.conversation_id)
    assert conversation is not None and routing is not None
    state.state, state.reason, state.detail = PENDING, reason, (detail or None)
    state.handoff_at, state.human_at = now, None
    routing.bot_active = False
    await log_event(session, conversation, texts.handed_off(bot.name, reason, detail), now)
    await _restart_sla(session, settings, conversation, now)
    await assign_or_queue(
        session,
        conversation,
        routing,
        now,
        sticky_fallback=settings.routing.assignment.sticky_fallback,
    )
    await publish(
        session,
        EVENT,
        conversation,
        now,
        bot=bot.name,
        reason=reason,
        reason_text=texts.reason_text(reason),
        detail=detail,
        state=PENDING,
    )
    return True


async def hand_back(
    session: AsyncSession, state: BotSession, bot: Bot, now: datetime
) -> ConversationRouting:
    """From ``pending_human`` or ``human`` back to ``bot`` (an agent's decision)."""
    if state.state == BOT:
        raise texts.cannot_hand_back("the bot already holds this conversation")
    if not bot.enabled:
        raise texts.cannot_hand_back(f"bot {bot.name} is disabled")
    conversation = await session.get(Conversation, state.conversation_id)
    routing = await session.get(ConversationRouting, state.conversation_id)
    assert conversation is not None and routing is not None
    state.state, state.bot_id, state.errors = BOT, bot.id, 0
    routing.bot, routing.bot_active, routing.queued_at = bot.name, True, None
    await log_event(session, conversation, texts.handed_back(bot.name), now)
    await publish(session, EVENT, conversation, now, bot=bot.name, reason="handback", state=BOT)
    return routing
