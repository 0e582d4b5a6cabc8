"""Batch context for group-committed ingest: what a batch of inbound messages needs from the
database (duplicates, sender identities, open conversations) is read in three queries up front,
and each message's rows are flushed together at the end, so a message on a known conversation
costs no round trip of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage, Party
from hub.conversations import ACTIVE
from hub.customers import Resolved
from hub.db.models import Conversation, ConversationStatus, Customer, Identity, Message
from hub.ids import ConversationId, CustomerId, MessageId
from hub.pipeline_types import IngestResult

ConversationKey = tuple[int, str, str | None]


@dataclass(slots=True)
class Staged:
    """A message added in this batch; its ids exist once the batch is flushed."""

    message: Message
    conversation: Conversation
    customer: Customer
    ticket_number: int | None
    duplicate: bool = False

    def result(self) -> IngestResult:
        return IngestResult(
            MessageId(self.message.id),
            ConversationId(self.conversation.id),
            CustomerId(self.customer.id),
            duplicate=self.duplicate,
            ticket_number=None if self.duplicate else self.ticket_number,
        )


@dataclass(slots=True)
class BatchContext:
    existing: dict[tuple[str, str], IngestResult] = field(default_factory=dict)
    staged: dict[tuple[str, str], Staged] = field(default_factory=dict)
    identities: dict[tuple[str, str], Resolved] = field(default_factory=dict)
    conversations: dict[ConversationKey, Conversation] = field(default_factory=dict)

    @classmethod
    async def prefetch(
        cls, session: AsyncSession, messages: Sequence[InboundMessage]
    ) -> BatchContext:
        context = cls()
        pairs = {(m.channel, m.external_id) for m in messages}
        rows = await session.execute(
            select(
                Message.channel,
                Message.external_id,
                Message.id,
                Message.conversation_id,
                Message.customer_id,
            ).where(tuple_(Message.channel, Message.external_id).in_(pairs))
        )
        for channel, external_id, message_id, conversation_id, customer_id in rows:
            context.existing[(channel, external_id or "")] = IngestResult(
                MessageId(message_id),
                ConversationId(conversation_id),
                CustomerId(customer_id),
                True,
            )
        senders = {(m.sender.kind.value, m.sender.address) for m in messages}
        found = await session.execute(
            select(Identity, Customer)
            .join(Customer, Customer.id == Identity.customer_id)
            .where(
                tuple_(Identity.kind, Identity.address).in_(senders),
                Customer.merged_into_id.is_(None),
            )
        )
        for identity, customer in found:
            context.identities[(identity.kind, identity.address)] = Resolved(
                customer, identity, created=False
            )
        customer_ids = {r.customer.id for r in context.identities.values()}
        if customer_ids:
            keys = {m.thread_key for m in messages if m.thread_key}
            status_or_key: ColumnElement[bool] = Conversation.status.in_(ACTIVE)
            if keys:
                status_or_key = or_(status_or_key, Conversation.thread_key.in_(keys))
            conversations = await session.scalars(
                select(Conversation)
                .where(
                    Conversation.customer_id.in_(customer_ids),
                    Conversation.channel.in_({m.channel for m in messages}),
                    status_or_key,
                )
                .order_by(Conversation.id)
            )
            for conversation in conversations:
                context.remember_conversation(conversation)
        return context

    def duplicate_of(self, inbound: InboundMessage) -> IngestResult | Staged | None:
        key = (inbound.channel, inbound.external_id)
        if key in self.existing:
            return self.existing[key]
        staged = self.staged.get(key)
        if staged is None:
            return None
        return Staged(staged.message, staged.conversation, staged.customer, None, duplicate=True)

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

    def remember_conversation(self, conversation: Conversation) -> None:
        """Later conversations win, as the slow path orders by id."""
        customer, channel = conversation.customer_id, conversation.channel
        if conversation.thread_key:
            self.conversations[(customer, channel, conversation.thread_key)] = conversation
        if conversation.status in ACTIVE:
            self.conversations[(customer, channel, None)] = conversation

    def stage(self, inbound: InboundMessage, staged: Staged) -> None:
        self.staged[(inbound.channel, inbound.external_id)] = staged
