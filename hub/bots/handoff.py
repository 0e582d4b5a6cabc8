"""The handoff, enforced by the hub: a conversation a bot serves is in one state, ``bot`` ->
``pending_human`` -> ``human`` (-> ``bot`` when an agent hands it back). Only these functions
change it, in the caller's transaction: the handoff logs the reason in the timeline, tells the
agents on the live channel, starts the SLA first-response clock and routes by the normal rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import notice, schedule, texts
from hub.config.settings import Settings
from hub.core import sla
from hub.core.conversations import log_event
from hub.db.bots_models import Bot, BotSession
from hub.db.models import Conversation, ConversationStatus, Direction, Message
from hub.db.routing_models import ConversationRouting, SlaClock
from hub.platform.events import publish
from hub.routing.assignment import assign_or_queue

BOT = "bot"
PENDING = "pending_human"
HUMAN = "human"
EVENT = "bot_handoff"
RESOLVED = ConversationStatus.RESOLVED.value


async def locked_session(session: AsyncSession, conversation_id: int) -> BotSession | None:
    """The conversation's bot state, locked for the rest of the transaction."""
    return await session.get(BotSession, conversation_id, with_for_update=True)


async def locked_with_bot(
    session: AsyncSession, conversation_id: int
) -> tuple[BotSession, Bot, Conversation] | None:
    """The conversation's bot state (locked for the rest of the transaction, as by
    ``locked_session``), its bot and the conversation, in one statement."""
    found = await session.execute(
        select(BotSession, Bot, Conversation)
        .join(Bot, Bot.id == BotSession.bot_id)
        .join(Conversation, Conversation.id == BotSession.conversation_id)
        .where(BotSession.conversation_id == conversation_id)
        .with_for_update(of=BotSession)
        .execution_options(populate_existing=True)
    )
    row = found.one_or_none()
    return None if row is None else (row[0], row[1], row[2])


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
        transcript=notice.as_payload(await notice.transcript(session, conversation.id)),
    )
    return True


async def hand_back(
    session: AsyncSession, state: BotSession, bot: Bot, now: datetime, reason: str = "handback"
) -> ConversationRouting:
    """From ``pending_human`` or ``human`` back to ``bot`` (an agent's decision, or the hub's
    on a resolved conversation's next message: reason ``resolved``)."""
    if state.state == BOT:
        raise texts.cannot_hand_back("the bot already holds this conversation")
    if not bot.enabled:
        raise texts.cannot_hand_back(f"bot {bot.name} is disabled")
    conversation = await session.get(Conversation, state.conversation_id)
    routing = await session.get(ConversationRouting, state.conversation_id)
    assert conversation is not None and routing is not None
    state.state, state.bot_id, state.errors = BOT, bot.id, 0
    state.stalled, state.last_answer = 0, None
    routing.bot, routing.bot_active, routing.queued_at = bot.name, True, None
    await log_event(session, conversation, texts.handed_back(bot.name, reason), now)
    await publish(session, EVENT, conversation, now, bot=bot.name, reason=reason, state=BOT)
    return routing


async def resolved_since(session: AsyncSession, conversation_id: int, since: datetime) -> bool:
    """The conversation was resolved at or after ``since``: a status change to resolved is in
    its timeline (the change's facts, set_status's ``status``; not the line's wording)."""
    found = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.EVENT,
            Message.created_at >= since,
            Message.raw["status"].as_string() == RESOLVED,
        )
        .limit(1)
    )
    return found is not None


async def back_on_return(
    session: AsyncSession, settings: Settings, state: BotSession, bot: Bot, now: datetime
) -> bool:
    """A customer writes again in a conversation the bot handed off and a person resolved:
    with ``handback_on_resolve`` (and the bot enabled, inside its hours) the bot has it again."""
    if state.state == BOT or state.reason is None or state.handoff_at is None:
        return False
    if not bot.handback_on_resolve or not bot.enabled:
        return False
    if not schedule.is_open(bot, settings.calendars, now):
        return False
    if not await resolved_since(session, state.conversation_id, state.handoff_at):
        return False
    await hand_back(session, state, bot, now, "resolved")
    return True
