"""Batch context for group-committed ingest: what a batch of inbound messages needs from the
database (duplicates, sender identities, open conversations) is read in a few queries up front.

A plain follow-up (a known customer writing into their open conversation, with nothing else to
do: no edit, no mail threading, no name to learn, no survey answer, no SLA clock to start, no
bot) is written with bulk statements at the end of the batch, without ORM objects. Every other
message goes through the ORM pipeline; so do all messages of a customer who has one of those in
the batch, with their rows loaded as ORM objects here, so the two ways never touch one row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    and_,
    bindparam,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Session

from channels.base import InboundKind, InboundMessage, Party
from hub.core.conversations import ACTIVE
from hub.core.customers import Resolved
from hub.core.ids import ConversationId, CustomerId, MessageId
from hub.db.models import Conversation, ConversationStatus, Customer, Identity, Message
from hub.db.routing_models import ConversationRouting, SlaClock
from hub.inbound.batch_plain import KnownConversation, KnownSender, Plain, PlainDuplicate
from hub.inbound.hooks import IngestHooks
from hub.inbound.results import IngestResult, Pending

ConversationKey = tuple[int, str, str | None]
_MESSAGE_ROW, _SENDER_ROW = 0, 1


# The duplicates and the senders are read in one statement, a UNION ALL of rows of one shape:
# (way, channel or kind, external id or address, message or identity id, conversation or
# customer id, name, merged into, tier, customer id of the message).
_EXISTING = select(
    literal_column(str(_MESSAGE_ROW), Integer).label("way"),
    Message.channel,
    Message.external_id,
    Message.id,
    Message.conversation_id,
    null(),
    null(),
    null(),
    Message.customer_id,
)
_SENDERS = select(
    literal_column(str(_SENDER_ROW), Integer),
    Identity.kind,
    Identity.address,
    Identity.id,
    Customer.id,
    Customer.name,
    Customer.merged_into_id,
    Customer.tier,
    null(),
).join(Customer, Customer.id == Identity.customer_id)
_KNOWN = (
    select(
        Conversation.id,
        Conversation.customer_id,
        Conversation.channel,
        Conversation.thread_key,
        Conversation.status,
        Conversation.team_id,
        Conversation.assignee_id,
        SlaClock.conversation_id,
        SlaClock.first_responded_at,
        SlaClock.awaiting_since,
        ConversationRouting.bot_active,
    )
    .outerjoin(SlaClock, SlaClock.conversation_id == Conversation.id)
    .outerjoin(ConversationRouting, ConversationRouting.conversation_id == Conversation.id)
    .where(
        Conversation.customer_id.in_(bindparam("customers", expanding=True)),
        Conversation.channel.in_(bindparam("channels", expanding=True)),
    )
    .order_by(Conversation.id)
)
# Statements are built once: building and hashing one costs more than running it.
_ACTIVE = Conversation.status.in_(ACTIVE)
_KNOWN_ACTIVE = _KNOWN.where(_ACTIVE)
_KNOWN_ACTIVE_OR_KEY = _KNOWN.where(
    or_(_ACTIVE, Conversation.thread_key.in_(bindparam("keys", expanding=True)))
)
_CHANNEL: BindParameter[str] = bindparam("channel")
_EXTERNAL_IDS: BindParameter[list[str]] = bindparam("external_ids", expanding=True)
_KIND: BindParameter[str] = bindparam("kind")
_ADDRESSES: BindParameter[list[str]] = bindparam("addresses", expanding=True)
_EXISTING_AND_SENDERS_ONE: CompoundSelect[*tuple[Any, ...]] = union_all(
    _EXISTING.where(Message.channel == _CHANNEL, Message.external_id.in_(_EXTERNAL_IDS)),
    _SENDERS.where(Identity.kind == _KIND, Identity.address.in_(_ADDRESSES)),
)


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for one, two in pairs:
        grouped.setdefault(one, []).append(two)
    return grouped


def _pairs_in(
    first: InstrumentedAttribute[str],
    second: InstrumentedAttribute[Any],
    grouped: dict[str, list[str]],
) -> ColumnElement[bool]:
    """``(first, second) IN pairs``, written as ``first = ? AND second IN (...)`` per first
    value: SQLite scans the whole table for a row-value IN, but uses the index for this."""
    return or_(*(and_(first == one, second.in_(twos)) for one, twos in grouped.items()))


def _existing_and_senders(
    messages: Sequence[InboundMessage],
) -> tuple[CompoundSelect[*tuple[Any, ...]], dict[str, Any]]:
    """The statement reading the batch's duplicates and senders, and its parameters; the
    prebuilt one when the batch comes from one channel and one kind of sender (the usual)."""
    ids = _grouped((m.channel, m.external_id) for m in messages)
    addresses = _grouped((m.sender.kind.value, m.sender.address) for m in messages)
    if len(ids) == 1 and len(addresses) == 1:
        ((channel, external_ids),) = ids.items()
        ((kind, known),) = addresses.items()
        params = {"channel": channel, "external_ids": external_ids}
        return _EXISTING_AND_SENDERS_ONE, {**params, "kind": kind, "addresses": known}
    return union_all(
        _EXISTING.where(_pairs_in(Message.channel, Message.external_id, ids)),
        _SENDERS.where(_pairs_in(Identity.kind, Identity.address, addresses)),
    ), {}


@dataclass(slots=True)
class Staged:
    """A message added in this batch through the ORM; its ids exist once the batch is flushed."""

    message: Message
    conversation: Conversation
    customer: Customer
    ticket_number: int | None
    duplicate: bool = False
    created: bool = False  # the message opened its conversation in this batch

    def result(self) -> IngestResult:
        return IngestResult(
            MessageId(self.message.id),
            ConversationId(self.conversation.id),
            CustomerId(self.customer.id),
            duplicate=self.duplicate,
            ticket_number=None if self.duplicate else self.ticket_number,
            quiet=self.duplicate,
        )


@dataclass(slots=True)
class BatchContext:
    """What the batch read up front (``prefetched``) and what it stored so far. One message
    ingested alone gets an empty context: every lookup falls through to the database."""

    hooks: IngestHooks
    prefetched: bool = False
    existing: dict[tuple[str, str], IngestResult] = field(default_factory=dict)
    staged: dict[tuple[str, str], Staged | Plain] = field(default_factory=dict)
    identities: dict[tuple[str, str], Resolved] = field(default_factory=dict)
    conversations: dict[ConversationKey, Conversation] = field(default_factory=dict)
    # Plain tier: snapshots of customers none of whose messages in the batch needs the ORM.
    senders: dict[tuple[str, str], KnownSender] = field(default_factory=dict)
    known: dict[ConversationKey, KnownConversation] = field(default_factory=dict)
    present: set[tuple[str, str]] = field(default_factory=set)  # every sender with an identity
    # Customers whose conversations the slow path could thread into (active ones, and those
    # with a thread key of the batch, on the batch's channels) are all in ``conversations``.
    covered: set[int] = field(default_factory=set)

    @classmethod
    async def prefetch(
        cls, session: AsyncSession, messages: Sequence[InboundMessage], hooks: IngestHooks
    ) -> BatchContext:
        # In one greenlet, on the connection: the reads are Core statements (no ORM loading).
        return await session.run_sync(cls._prefetch, messages, hooks)

    @classmethod
    def _prefetch(
        cls, session: Session, messages: Sequence[InboundMessage], hooks: IngestHooks
    ) -> BatchContext:
        context = cls(hooks, prefetched=True)
        connection = session.connection()
        query, params = _existing_and_senders(messages)
        found = []
        for way, *row in connection.execute(query, params):
            if way == _MESSAGE_ROW:
                channel, external_id, message_id, conversation_id, *_, customer_id = row
                context.existing[(channel, external_id or "")] = IngestResult(
                    MessageId(message_id),
                    ConversationId(conversation_id),
                    CustomerId(customer_id),
                    True,
                    quiet=True,
                )
            else:
                found.append(row[:7])
        merged = False
        for kind, address, identity_id, customer_id, name, merged_into, tier in found:
            context.present.add((kind, address))
            if merged_into is None:
                known = KnownSender(customer_id, name or "", identity_id, tier or "")
                context.senders[(kind, address)] = known
            merged = merged or merged_into is not None
        if not context.senders:
            return context
        context._load_known(connection, messages)
        if merged:  # a merged identity leads to a customer the batch cannot tell: all by ORM
            orm = {sender.customer_id for sender in context.senders.values()}
        else:
            orm = {
                sender.customer_id
                for m in messages
                if (sender := context.sender(m.sender)) is not None
                and not context._plain_ok(m, sender)
            }
        if orm:
            context._load_orm(session, messages, orm)
        return context

    def _conversation_filter(self, messages: Sequence[InboundMessage]) -> ColumnElement[bool]:
        keys = {m.thread_key for m in messages if m.thread_key}
        status_or_key: ColumnElement[bool] = Conversation.status.in_(ACTIVE)
        if keys:
            status_or_key = or_(status_or_key, Conversation.thread_key.in_(keys))
        return status_or_key

    def _load_known(self, connection: Connection, messages: Sequence[InboundMessage]) -> None:
        params: dict[str, Any] = {
            "customers": list({s.customer_id for s in self.senders.values()}),
            "channels": list({m.channel for m in messages}),
        }
        keys = {m.thread_key for m in messages if m.thread_key}
        if keys:
            params["keys"] = list(keys)
        rows = connection.execute(_KNOWN_ACTIVE_OR_KEY if keys else _KNOWN_ACTIVE, params)
        for row in rows:
            clock, responded, awaiting, bot_active = row[7:]
            quiet = (clock is None or responded is None or awaiting is not None) and not bot_active
            known = KnownConversation(*row[:7], quiet=quiet)
            self._remember(self.known, known.customer_id, known, known.thread_key, known.status)

    def _load_orm(
        self, session: Session, messages: Sequence[InboundMessage], customers: set[int]
    ) -> None:
        """ORM objects for the customers whose messages go through the ORM pipeline."""
        senders = {k for k, s in self.senders.items() if s.customer_id in customers}
        for key in senders:
            del self.senders[key]
        found = session.execute(
            select(Identity, Customer)
            .join(Customer, Customer.id == Identity.customer_id)
            .where(
                or_(*(and_(Identity.kind == k, Identity.address == a) for k, a in senders)),
                Customer.merged_into_id.is_(None),
            )
        )
        for identity, customer in found:
            self.identities[(identity.kind, identity.address)] = Resolved(
                customer, identity, created=False
            )
        conversations = session.scalars(
            select(Conversation)
            .where(
                Conversation.customer_id.in_(customers),
                Conversation.channel.in_({m.channel for m in messages}),
                self._conversation_filter(messages),
            )
            .order_by(Conversation.id)
        )
        for conversation in conversations:
            self.remember_conversation(conversation)
        self.covered |= customers

    @staticmethod
    def _remember(
        into: dict[ConversationKey, Any], customer: int, item: Any, key: str | None, status: str
    ) -> None:
        """Later conversations win, as the slow path orders by id."""
        channel = item.channel
        if key:
            into[(customer, channel, key)] = item
        if status in ACTIVE:
            into[(customer, channel, None)] = item

    def sender(self, party: Party) -> KnownSender | None:
        return self.senders.get((party.kind.value, party.address))

    def _plain_ok(self, inbound: InboundMessage, sender: KnownSender) -> bool:
        if (
            inbound.kind is not InboundKind.MESSAGE
            or inbound.reply_to_ids
            or (inbound.sender.name and not sender.customer_name)  # a name to learn
            or self.hooks.claims(inbound)  # e.g. mail: its own threading and records
        ):
            return False
        known = self.known.get((sender.customer_id, inbound.channel, inbound.thread_key))
        if known is None or known.status != ConversationStatus.OPEN:
            return False
        return inbound.automated or (known.quiet and not self.hooks.router_claims(inbound))

    def plain_target(self, inbound: InboundMessage) -> tuple[KnownSender, KnownConversation] | None:
        """Sender and conversation of a plain follow-up, or None: the ORM pipeline takes it."""
        sender = self.sender(inbound.sender)
        if sender is None or not self._plain_ok(inbound, sender):
            return None
        return sender, self.known[(sender.customer_id, inbound.channel, inbound.thread_key)]

    def duplicate_of(self, inbound: InboundMessage) -> Pending | None:
        key = (inbound.channel, inbound.external_id)
        if key in self.existing:
            return self.existing[key]
        staged = self.staged.get(key)
        if staged is None:
            return None
        if isinstance(staged, Plain):
            return PlainDuplicate(staged)
        return Staged(staged.message, staged.conversation, staged.customer, None, duplicate=True)

    def unknown(self, sender: Party) -> bool:
        """No identity had this address when the batch began, nor was one added since (never
        known without the reads up front)."""
        key = (sender.kind.value, sender.address)
        return self.prefetched and key not in self.present and key not in self.identities

    def resolved(self, sender: Party) -> Resolved | None:
        return self.identities.get((sender.kind.value, sender.address))

    def remember_sender(self, sender: Party, resolved: Resolved) -> None:
        if resolved.customer.merged_into_id is None:
            self.identities[(sender.kind.value, sender.address)] = Resolved(
                resolved.customer, resolved.identity, created=False
            )

    def conversation(self, customer_id: int, inbound: InboundMessage) -> Conversation | None:
        """The open conversation the slow path would pick, when the batch already knows it."""
        if inbound.reply_to_ids:
            return None
        found = self.conversations.get((customer_id, inbound.channel, inbound.thread_key))
        if found is None or found.status != ConversationStatus.OPEN:
            return None
        return found

    def none_to_thread_into(self, customer_id: int, inbound: InboundMessage) -> bool:
        """The customer has no conversation a message without reply ids could join by its
        thread key, or (without one) no active conversation on its channel: the batch read
        them all, so ``thread_message`` need not look again."""
        if inbound.reply_to_ids or customer_id not in self.covered:
            return False
        return (customer_id, inbound.channel, inbound.thread_key) not in self.conversations

    def remember_conversation(self, conversation: Conversation) -> None:
        self._remember(
            self.conversations,
            conversation.customer_id,
            conversation,
            conversation.thread_key,
            conversation.status,
        )

    def stage(self, inbound: InboundMessage, staged: Staged | Plain) -> None:
        self.staged[(inbound.channel, inbound.external_id)] = staged
