"""Figures for supervisors, per bot and channel over a period: conversations a bot opened, how
many were resolved without a person (containment), why the others were handed over, and how
long the bot took to answer a customer's message (from the delivery log, the bot's own time).
A conversation that came outside a bot's hours is not the bot's: it counts among the handoffs
(``outside_bot_hours``) but not in the bot's conversations or its containment rate."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots.schedule import OUTSIDE
from hub.db.bots_models import Bot, BotDelivery, BotSession
from hub.db.models import Conversation, ConversationStatus


@dataclass(slots=True)
class BotFigure:
    bot: str
    channel: str
    conversations: int = 0
    contained: int = 0
    handoffs: Counter[str] = field(default_factory=Counter)
    response_ms: list[int] = field(default_factory=list)

    @property
    def containment_rate(self) -> float | None:
        return round(self.contained / self.conversations, 4) if self.conversations else None

    def percentile(self, share: float) -> int | None:
        if not self.response_ms:
            return None
        ordered = sorted(self.response_ms)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def bot_figures(
    session: AsyncSession,
    since: datetime,
    until: datetime | None = None,
    channel: str | None = None,
) -> list[BotFigure]:
    """Conversations bots opened in ``[since, until)`` (on ``channel``), with their figures."""
    names = {bot_id: name for bot_id, name in await session.execute(select(Bot.id, Bot.name))}
    period = [BotSession.opened_at >= since]
    if until is not None:
        period.append(BotSession.opened_at < until)
    if channel is not None:
        period.append(BotSession.channel == channel)
    delivered = [] if until is None else [BotDelivery.created_at < until]
    if channel is not None:
        delivered.append(BotSession.channel == channel)
    rows = await session.execute(
        select(BotSession.bot_id, BotSession.channel, BotSession.reason, Conversation.status)
        .join(Conversation, Conversation.id == BotSession.conversation_id)
        .where(*period)
    )
    found: dict[tuple[str, str], BotFigure] = {}
    for bot_id, channel, reason, status in rows:
        key = (names.get(bot_id, str(bot_id)), channel)
        one = found.setdefault(key, BotFigure(*key))
        if reason == OUTSIDE:  # never the bot's: counted among the handoffs only
            one.handoffs[reason] += 1
            continue
        one.conversations += 1
        if reason is not None:
            one.handoffs[reason] += 1
        elif status == ConversationStatus.RESOLVED:
            one.contained += 1
    timings = await session.execute(
        select(BotDelivery.bot_id, BotSession.channel, BotDelivery.bot_ms)
        .join(BotSession, BotSession.conversation_id == BotDelivery.conversation_id)
        .where(
            *delivered,
            BotDelivery.created_at >= since,
            BotDelivery.outcome == "ok",
            BotDelivery.event.in_(("message.created", "button.pressed")),
        )
    )
    per: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for bot_id, channel, ms in timings:
        if ms is not None:
            per[(names.get(bot_id, str(bot_id)), channel)].append(ms)
    for key, values in per.items():
        found.setdefault(key, BotFigure(*key)).response_ms.extend(values)
    return sorted(found.values(), key=lambda f: (f.bot, f.channel))


@dataclass(frozen=True, slots=True)
class Totals:
    conversations: int
    contained: int
    handoffs: Counter[str]

    @property
    def containment_rate(self) -> float | None:
        return round(self.contained / self.conversations, 4) if self.conversations else None


def totals(found: list[BotFigure]) -> Totals:
    reasons: Counter[str] = Counter()
    for one in found:
        reasons.update(one.handoffs)
    return Totals(sum(f.conversations for f in found), sum(f.contained for f in found), reasons)
