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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, inspect, select
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


class Arriving:
    """The mails delivered and not yet answered (parsed, waiting for or inside a group commit).
    The first threading lookup of a write transaction asks the database about the tokens and
    reply ids of all of them at once, so the mails of one batch share one statement per kind
    of lookup instead of each running its own."""

    def __init__(self) -> None:
        self._mails: dict[int, InboundMessage] = {}

    @contextmanager
    def delivering(self, inbound: InboundMessage) -> Iterator[None]:
        self._mails[id(inbound)] = inbound
        try:
            yield
        finally:
            self._mails.pop(id(inbound), None)

    def evidence(self, first: InboundMessage) -> tuple[set[str], set[str]]:
        """Tokens and reply ids to ask about: ``first``'s, then the others' up to a limit."""
        tokens: set[str] = set()
        ids: set[str] = set()
        for inbound in (first, *self._mails.values()):
            if len(ids) + len(tokens) >= MAX_ASKED:
                break
            details = details_of(inbound)
            if details is not None:
                tokens.update(details.tokens)
                ids.update(inbound.reply_to_ids)
        return tokens, ids


ARRIVING = Arriving()
# Tokens and reply ids asked in one go at most (bound parameters stay well under any limit).
MAX_ASKED = 1000
_KEY = "email.threading"


@dataclass(slots=True)
class _Lookups:
    """What one write transaction read for threading. Reads see the transaction's own rows at
    the moment they ran: messages stored since then by this transaction are the ``added``
    mails (held, and checked for a rolled-back savepoint) and whatever is still unflushed.
    Conversations opened since then carry fresh tokens no received mail can name yet;
    merges are made by agents, never inside an ingest transaction."""

    transaction: object
    asked_tokens: set[str] = field(default_factory=set)
    tokens: dict[str, Conversation] = field(default_factory=dict)
    asked_ids: set[str] = field(default_factory=set)
    references: dict[str, int] = field(default_factory=dict)
    merges: dict[int, int | None] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)  # held for session.get
    added: list[Message] = field(default_factory=list)

    async def ask(self, session: AsyncSession, inbound: InboundMessage) -> None:
        details = details_of(inbound)
        own_tokens = set(details.tokens) if details is not None else set()
        if own_tokens <= self.asked_tokens and set(inbound.reply_to_ids) <= self.asked_ids:
            return
        tokens, ids = ARRIVING.evidence(inbound)
        tokens -= self.asked_tokens
        ids -= self.asked_ids
        found: set[int] = set()
        if tokens:
            self.asked_tokens |= tokens
            for conversation in await session.scalars(_TOKENS, {"tokens": list(tokens)}):
                self.conversations[conversation.id] = conversation
                self.tokens.setdefault(conversation.token, conversation)
                found.add(conversation.id)
        if ids:
            self.asked_ids |= ids
            for external_id, conversation_id in await session.execute(
                _REFERENCES, {"ids": list(ids)}
            ):
                if external_id is not None and conversation_id is not None:
                    self.references.setdefault(external_id, conversation_id)
                    found.add(conversation_id)
        await self._merges(session, found)
        wanted = [i for i in found if i not in self.conversations]
        if wanted:
            for conversation in await session.scalars(_CONVERSATIONS, {"ids": wanted}):
                self.conversations[conversation.id] = conversation

    async def _merges(self, session: AsyncSession, conversation_ids: set[int]) -> None:
        wanted = [i for i in conversation_ids if i not in self.merges]
        if not wanted:
            return
        self.merges.update(dict.fromkeys(wanted))
        for source, target in await session.execute(_MERGES, {"ids": wanted}):
            self.merges[source] = target

    async def follow(self, session: AsyncSession, conversation: Conversation) -> Conversation:
        for _hop in range(10):
            if conversation.id not in self.merges:
                await self._merges(session, {conversation.id})
            target = self.merges[conversation.id]
            if target is None:
                return conversation
            found = self.conversations.get(target) or await session.get(Conversation, target)
            if found is None:
                return conversation
            self.conversations[target] = found
            conversation = found
        return conversation

    def by_reference(self, session: AsyncSession, ids: tuple[str, ...]) -> int | None:
        """The conversation of the most recent reference stored, by this transaction too."""
        rows = [(i, self.references[i]) for i in ids if i in self.references]
        if len(rows) < len(ids):
            wanted = set(ids)
            rows.extend(
                (message.external_id, message.conversation_id)
                for message in self.added
                if message.external_id in wanted and not inspect(message).transient
            )
            rows.extend(_pending_messages(session, ids))
        if not rows:
            return None
        position = {value: index for index, value in enumerate(ids)}
        return max(rows, key=lambda row: position.get(row[0] or "", -1))[1]


_TOKENS = select(Conversation).where(Conversation.token.in_(bindparam("tokens", expanding=True)))
_REFERENCES = select(Message.external_id, Message.conversation_id).where(
    Message.external_id.in_(bindparam("ids", expanding=True))
)
_MERGES = select(ConversationMerge.source_id, ConversationMerge.target_id).where(
    ConversationMerge.source_id.in_(bindparam("ids", expanding=True))
)
_CONVERSATIONS = select(Conversation).where(Conversation.id.in_(bindparam("ids", expanding=True)))


def _lookups(session: AsyncSession) -> _Lookups:
    """This write transaction's lookups (a new transaction starts afresh)."""
    transaction = session.sync_session.get_transaction()
    lookups = session.info.get(_KEY)
    if not isinstance(lookups, _Lookups) or lookups.transaction is not transaction:
        lookups = session.info[_KEY] = _Lookups(transaction)
    return lookups


def remember_stored(session: AsyncSession, message: Message) -> None:
    """A mail's message added in this transaction: later mails of the batch may reply to it."""
    if message.external_id:
        _lookups(session).added.append(message)


async def follow_merges(session: AsyncSession, conversation: Conversation) -> Conversation:
    return await _lookups(session).follow(session, conversation)


def _pending_messages(session: AsyncSession, ids: tuple[str, ...]) -> list[tuple[str, int]]:
    """Messages of this transaction not yet flushed (earlier mails of the same batch)."""
    wanted = set(ids)
    return [
        (item.external_id, item.conversation_id)
        for item in session.new
        if isinstance(item, Message) and item.external_id in wanted
    ]


async def _by_token_or_reference(
    session: AsyncSession, inbound: InboundMessage, tokens: tuple[str, ...]
) -> Conversation | None:
    if not tokens and not inbound.reply_to_ids:
        return None
    lookups = _lookups(session)
    await lookups.ask(session, inbound)
    by_token = [lookups.tokens[t] for t in tokens if t in lookups.tokens]
    if by_token:  # the most recent conversation named, as ``ORDER BY id DESC`` picked
        return max(by_token, key=lambda conversation: conversation.id)
    conversation_id = lookups.by_reference(session, inbound.reply_to_ids)
    if conversation_id is None:
        return None
    found = lookups.conversations.get(conversation_id)
    if found is None:
        found = await session.get(Conversation, conversation_id)
        if found is not None:
            lookups.conversations[conversation_id] = found
    return found


async def _by_ticket(
    session: AsyncSession, numbers: tuple[int, ...], customer_id: int | None
) -> Conversation | None:
    if not numbers or customer_id is None:
        return None
    return await session.scalar(
        select(Conversation)
        .join(Ticket, Ticket.conversation_id == Conversation.id)
        .where(Ticket.number.in_(numbers), Conversation.customer_id == customer_id)
        .order_by(Conversation.id.desc())
        .limit(1)
    )


_SUBJECT = (
    select(Conversation)
    .where(
        Conversation.customer_id == bindparam("customer"),
        Conversation.status.in_(_ACTIVE),
        Conversation.last_activity_at >= bindparam("since"),
        func.lower(Conversation.subject).like(bindparam("pattern"), escape="/"),
    )
    .order_by(Conversation.id.desc())
    .limit(20)
)


def _like_part(text: str) -> str:
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _matches(conversation: Conversation, customer_id: int, since: datetime) -> bool:
    activity = conversation.last_activity_at
    return (
        conversation.customer_id == customer_id
        and conversation.status in _ACTIVE
        and activity is not None
        and activity >= since
    )


async def _by_subject(
    session: AsyncSession, subject: str, customer_id: int | None, now: datetime
) -> Conversation | None:
    """The customer's most recent active conversation with this subject. Read without
    flushing the batch: the rows found are checked again as this transaction left them, and
    conversations it opened or changed and has not written yet are checked in the session."""
    wanted = normalized_subject(subject)
    if len(wanted) < 4 or customer_id is None:
        return None
    since = now - SUBJECT_WINDOW
    params = {"customer": customer_id, "since": since, "pattern": _like_part(wanted[:60])}
    with session.no_autoflush:
        stored = list(await session.scalars(_SUBJECT, params))
    candidates = {id(c): c for c in stored}
    for item in (*session.new, *session.dirty):
        if isinstance(item, Conversation) and item.customer_id == customer_id:
            candidates[id(item)] = item
    recent = sorted(
        (c for c in candidates.values() if _matches(c, customer_id, since)),
        key=lambda c: (c.id is None, c.id or 0),
        reverse=True,
    )
    for conversation in recent[:20]:
        if normalized_subject(conversation.subject) == wanted:
            return conversation
    return None


async def email_conversation(
    session: AsyncSession, inbound: InboundMessage, customer_id: int | None, now: datetime
) -> Conversation | None:
    """The conversation a mail joins, or None (a new one; also None for other channels).
    ``customer_id`` is None for a sender this transaction is creating: no conversation is
    theirs yet, so only tokens and references can lead to one.

    Nothing here flushes the batch (that would write each mail of a group commit on its
    own). Tokens and references are asked for all mails arriving together at the first
    lookup of the transaction; messages stored since by the transaction, flushed or not,
    are looked at in the session; tickets and merges are written as soon as they exist. The
    subject match rechecks status and activity as the transaction left them."""
    details = details_of(inbound)
    if details is None:
        return None
    with session.no_autoflush:
        found = await _by_token_or_reference(session, inbound, details.tokens) or await _by_ticket(
            session, details.ticket_numbers, customer_id
        )
        if found is None:
            found = await _by_subject(session, inbound.subject or "", customer_id, now)
        return await follow_merges(session, found) if found is not None else None
