"""What agents are shown of a handoff: the reason and a short transcript of the exchange with
the bot (the last few customer and bot messages), on the live channel's ``bot_handoff`` event,
on the conversation page and as the inbox row's highlight."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import texts
from hub.bots.schedule import OUTSIDE
from hub.db.bots_models import Bot, BotSession
from hub.db.models import Direction, Message

TRANSCRIPT_MESSAGES = 6
LINE_CHARS = 200
PENDING = "pending_human"


@dataclass(frozen=True, slots=True)
class Line:
    who: str  # "customer", the bot's name, or "agent"
    text: str


@dataclass(frozen=True, slots=True)
class HandoffNotice:
    bot: str
    reason: str
    reason_text: str
    detail: str | None
    at: datetime | None
    waiting: bool  # still waiting for a person
    transcript: tuple[Line, ...]


async def transcript(
    session: AsyncSession, conversation_id: int, before: datetime | None = None
) -> tuple[Line, ...]:
    """The last customer and bot messages (up to ``before``), oldest first."""
    query = select(Message.direction, Message.raw, Message.text, Message.automated).where(
        Message.conversation_id == conversation_id,
        Message.direction.in_((Direction.INBOUND, Direction.OUTBOUND)),
    )
    if before is not None:
        query = query.where(Message.created_at <= before)
    rows = await session.execute(query.order_by(Message.id.desc()).limit(3 * TRANSCRIPT_MESSAGES))
    lines: list[Line] = []
    for direction, raw, text, automated in rows:
        bot = (raw or {}).get("bot")
        if direction == Direction.OUTBOUND and automated and not bot:
            continue  # acknowledgements and templates are not part of the exchange
        who = "customer" if direction == Direction.INBOUND else str(bot) if bot else "agent"
        lines.append(Line(who, " ".join((text or "").split())[:LINE_CHARS]))
        if len(lines) == TRANSCRIPT_MESSAGES:
            break
    return tuple(reversed(lines))


def as_payload(lines: Iterable[Line]) -> list[dict[str, str]]:
    return [{"who": line.who, "text": line.text} for line in lines]


async def notice_for(session: AsyncSession, conversation_id: int) -> HandoffNotice | None:
    """The handoff notice of a conversation a bot handed to people (None: no handoff)."""
    state = await session.get(BotSession, conversation_id)
    if state is None or state.reason is None or state.state == "bot":
        return None
    bot = await session.get(Bot, state.bot_id)
    return HandoffNotice(
        bot=bot.name if bot else "?",
        reason=state.reason,
        reason_text=texts.reason_text(state.reason),
        detail=state.detail,
        at=state.handoff_at,
        waiting=state.state == PENDING,
        transcript=await transcript(session, conversation_id, state.handoff_at),
    )


async def waiting_reasons(session: AsyncSession, conversation_ids: list[int]) -> dict[int, str]:
    """For an inbox page: the handoff reason of each conversation still waiting for a person
    (not those that came outside a bot's hours: they are ordinary conversations)."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(BotSession.conversation_id, BotSession.reason).where(
            BotSession.conversation_id.in_(conversation_ids),
            BotSession.state == PENDING,
            BotSession.reason != OUTSIDE,  # never the bot's: nothing was handed over
        )
    )
    return {cid: texts.reason_text(reason or "") for cid, reason in rows}
