"""Which conversation a received mail belongs to, strongest evidence first:

1. the conversation token, from our ``support+<token>@`` reply address or one of our own
   Message-IDs (``<rd.<token>.<random>@domain>``) in In-Reply-To/References;
2. In-Reply-To/References naming any message we stored or sent (the most recent reference wins);
3. a ``[#1234]`` ticket number in the subject, for the same customer only;
4. last resort, the same subject as one of the customer's active conversations from the last
   weeks: never across customers.

Replies by token or reference may come from someone other than the conversation's customer
(a colleague in CC); they join the conversation. Merged conversations are followed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.db.email_models import ConversationMerge
from hub.db.models import Conversation, ConversationStatus, Message, Ticket
from hub.email.store import details_of

SUBJECT_WINDOW = timedelta(days=30)
_PREFIX = re.compile(r"^\s*((re|aw|sv|fwd?|fw|wg|tr|rv|antw)\s*(\[\d+\])?\s*:\s*)+", re.I)
_TICKET = re.compile(r"\s*\[#\d{1,9}\]\s*")
_ACTIVE = (ConversationStatus.OPEN, ConversationStatus.PENDING, ConversationStatus.SNOOZED)


def normalized_subject(subject: str) -> str:
    without = _TICKET.sub(" ", subject or "")
    return " ".join(_PREFIX.sub("", without).split()).lower()


async def follow_merges(session: AsyncSession, conversation: Conversation) -> Conversation:
    for _hop in range(10):
        target = await session.scalar(
            select(ConversationMerge.target_id).where(
                ConversationMerge.source_id == conversation.id
            )
        )
        if target is None:
            return conversation
        found = await session.get(Conversation, target)
        if found is None:
            return conversation
        conversation = found
    return conversation


async def _by_token(session: AsyncSession, tokens: tuple[str, ...]) -> Conversation | None:
    if not tokens:
        return None
    return await session.scalar(
        select(Conversation).where(Conversation.token.in_(tokens)).order_by(Conversation.id.desc())
    )


def _pending_messages(session: AsyncSession, ids: tuple[str, ...]) -> list[tuple[str, int]]:
    """Messages of this transaction not yet flushed (earlier mails of the same batch)."""
    wanted = set(ids)
    return [
        (item.external_id, item.conversation_id)
        for item in session.new
        if isinstance(item, Message) and item.external_id in wanted
    ]


async def _by_reference(session: AsyncSession, ids: tuple[str, ...]) -> Conversation | None:
    if not ids:
        return None
    rows: list[Any] = list(
        (
            await session.execute(
                select(Message.external_id, Message.conversation_id).where(
                    Message.external_id.in_(ids)
                )
            )
        ).all()
    )
    rows.extend(_pending_messages(session, ids))
    if not rows:
        return None
    position = {value: index for index, value in enumerate(ids)}
    best = max(rows, key=lambda row: position.get(row[0] or "", -1))
    return await session.get(Conversation, best[1])


async def _by_ticket(
    session: AsyncSession, numbers: tuple[int, ...], customer_id: int
) -> Conversation | None:
    if not numbers:
        return None
    return await session.scalar(
        select(Conversation)
        .join(Ticket, Ticket.conversation_id == Conversation.id)
        .where(Ticket.number.in_(numbers), Conversation.customer_id == customer_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


async def _by_subject(
    session: AsyncSession, subject: str, customer_id: int, channel: str, now: datetime
) -> Conversation | None:
    wanted = normalized_subject(subject)
    if len(wanted) < 4:
        return None
    candidates = await session.scalars(
        select(Conversation)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.status.in_(_ACTIVE),
            Conversation.last_activity_at >= now - SUBJECT_WINDOW,
            func.lower(Conversation.subject).contains(wanted[:60], autoescape=True),
        )
        .order_by(Conversation.id.desc())
        .limit(20)
    )
    for conversation in candidates:
        if normalized_subject(conversation.subject) == wanted:
            return conversation
    return None


async def email_conversation(
    session: AsyncSession, inbound: InboundMessage, customer_id: int, now: datetime
) -> Conversation | None:
    """The conversation a mail joins, or None (a new one; also None for other channels).

    Tokens, references, tickets and merges are looked up without flushing the batch first
    (that would write each mail of a group commit on its own): tokens, tickets and merges
    are written as soon as they exist, and messages not yet flushed are looked at in the
    session. The subject match reads activity and status, which earlier mails of the batch
    may have changed, so it flushes; a mail that gets this far opens or finds its
    conversation by a flushing lookup anyway."""
    details = details_of(inbound)
    if details is None:
        return None
    with session.no_autoflush:
        found = (
            await _by_token(session, details.tokens)
            or await _by_reference(session, inbound.reply_to_ids)
            or await _by_ticket(session, details.ticket_numbers, customer_id)
        )
        if found is not None:
            return await follow_merges(session, found)
    found = await _by_subject(session, inbound.subject or "", customer_id, inbound.channel, now)
    return await follow_merges(session, found) if found is not None else None
