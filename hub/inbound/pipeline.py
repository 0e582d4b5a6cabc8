"""The ingest pipeline, inside the caller's transaction: idempotency, customer, conversation,
routing, ticket, acknowledgement. One message or a batch take the same path (one message is a
batch of one whose shared reads were not done up front); what areas add comes in as hooks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from channels.base import Attachment, InboundKind, InboundMessage
from hub.config.settings import Settings
from hub.core.conversations import Threaded, thread_message
from hub.core.customers import learn_name, record_duplicate_candidates, resolve_customer
from hub.core.ids import ConversationId, CustomerId, MessageId
from hub.core.sanitize import sanitize_html
from hub.core.tickets import open_ticket
from hub.core.transaction_memo import note_new_customer
from hub.db.models import (
    Conversation,
    ConversationStatus,
    Customer,
    DeliveryState,
    Direction,
    Identity,
    Message,
)
from hub.inbound.batch import BatchContext, Staged
from hub.inbound.batch_plain import Plain, write_plain
from hub.inbound.edits import apply_edit
from hub.inbound.hooks import IngestHooks, Interceptor, StoredMessage
from hub.inbound.results import IngestResult, Pending
from hub.platform.clock import Clock
from hub.platform.events import publish, written_together
from hub.reports.record import Arrival, Reports


def _attachment_meta(attachment: Attachment) -> dict[str, Any]:
    return {
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "content_id": attachment.content_id,
        "inline": attachment.inline,
    }


def message_fields(
    inbound: InboundMessage,
    conversation_id: int,
    customer_id: int,
    identity_id: int,
    now: datetime,
) -> dict[str, Any]:
    """The columns of an inbound message's row."""
    return {
        "conversation_id": conversation_id,
        "customer_id": customer_id,
        "direction": Direction.INBOUND,
        "channel": inbound.channel,
        "external_id": inbound.external_id,
        "identity_id": identity_id,
        "subject": (inbound.subject or "")[:500],
        "text": inbound.text,
        "html": sanitize_html(inbound.html) if inbound.html else None,
        "attachments": [_attachment_meta(a) for a in inbound.attachments],
        "raw": dict(inbound.raw),
        "automated": inbound.automated,
        "parse_error": inbound.parse_error,
        "delivery_state": DeliveryState.RECEIVED,
        "created_at": now,
    }


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        hooks: IngestHooks,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.hooks = hooks
        self.engine = hooks.router
        self.reports = Reports(settings)

    async def existing(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult | None:
        row = (
            await session.execute(
                select(Message.id, Message.conversation_id, Message.customer_id).where(
                    Message.channel == inbound.channel, Message.external_id == inbound.external_id
                )
            )
        ).first()
        ids = tuple(row) if row is not None else await self.hooks.find_stored(session, inbound)
        if ids is None:
            return None
        return IngestResult(MessageId(ids[0]), ConversationId(ids[1]), CustomerId(ids[2]), True)

    async def ingest(self, session: AsyncSession, inbound: InboundMessage) -> IngestResult:
        """Ingest one message in the caller's transaction (flushed, not committed)."""
        return (await self.ingest_batch(session, [inbound], prefetch=False))[0]

    async def ingest_batch(
        self, session: AsyncSession, messages: list[InboundMessage], *, prefetch: bool = True
    ) -> list[IngestResult]:
        """Ingest several messages with the reads they share done once and one flush at the end.
        Any error propagates; the caller rolls back and falls back to ``ingest`` per message."""
        with keeping_written(session) as written:
            async with written_together(session):
                return await self._ingest_batch(session, messages, prefetch, written)

    async def _ingest_batch(
        self,
        session: AsyncSession,
        messages: list[InboundMessage],
        prefetch: bool,
        written: list[object],
    ) -> list[IngestResult]:
        if prefetch:
            batch = await BatchContext.prefetch(session, messages, self.hooks)
        else:
            batch = BatchContext(self.hooks)
        outcomes: list[Pending] = []
        pending: list[Plain] = []
        arrivals: list[Arrival] = []  # for the reports, in arrival order
        for inbound in messages:
            target = batch.plain_target(inbound)
            if target is None:
                if pending:  # written first, so message ids follow arrival across both ways
                    await session.flush()
                    await write_plain(session, pending, self.clock.now())
                    arrivals += _plain_arrivals(pending)
                    pending = []
                outcomes.append(await self.stage(session, inbound, batch))
                continue
            duplicate = batch.duplicate_of(inbound)
            if duplicate is not None:
                outcomes.append(duplicate)
                continue
            sender, known = target
            now = self.clock.now()
            row = message_fields(inbound, known.id, sender.customer_id, sender.identity_id, now)
            plain = Plain(row, known, now, sender.tier)
            batch.stage(inbound, plain)
            outcomes.append(plain)
            pending.append(plain)
        if pending or _unwritten(outcomes):
            await session.flush()  # message ids in arrival order; the staged ones are needed
        # Otherwise what is pending (a new conversation's ticket) goes with the reports' flush.
        now = self.clock.now()
        await write_plain(session, pending, now)
        arrivals += _plain_arrivals(pending)
        await self.hooks.stored(session, _stored(messages, outcomes), now)
        fresh = [o for o in outcomes if isinstance(o, Staged) and not o.duplicate]
        # Conversations opened in this batch have their routing rows in the session already
        # (``written`` keeps them there): only the others' are read.
        older = {o.conversation.id for o in fresh if not o.created}
        preloaded = await self.engine.preload(session, older)
        for outcome in fresh:
            await publish(
                session, "message", outcome.conversation, now, message_id=outcome.message.id
            )
            await self.engine.after_inbound(session, outcome.message, outcome.conversation, now)
            if _reported(outcome.message, outcome.conversation):
                message = outcome.message
                new = outcome.created
                arrivals.append(Arrival(outcome.conversation, message.id, message.created_at, new))
        await self.reports.customer_messages(session, arrivals)
        del preloaded, written
        return [o.result() for o in outcomes]

    async def stage(
        self, session: AsyncSession, inbound: InboundMessage, batch: BatchContext
    ) -> Pending:
        """Add one message's rows to the session; ids are known after the next flush."""
        if inbound.kind is InboundKind.EDIT:
            edited = await apply_edit(session, inbound, self.clock.now())
            if edited is not None:  # recorded on the stored message; nothing new is created
                ids = (MessageId(edited.id), ConversationId(edited.conversation_id))
                return IngestResult(*ids, CustomerId(edited.customer_id), duplicate=True)
        if batch.prefetched:
            duplicate: Pending | None = batch.duplicate_of(inbound)
        else:
            duplicate = await self.existing(session, inbound)
        if duplicate is not None:
            return duplicate
        now = self.clock.now()
        resolved = batch.resolved(inbound.sender)
        if resolved is None:
            known_new = batch.unknown(inbound.sender)
            resolved = await resolve_customer(
                session, inbound.sender, now, known_new=known_new, contact=True
            )
            batch.remember_sender(inbound.sender, resolved)
        else:
            learn_name(resolved.customer, inbound.sender)
        customer = resolved.customer
        if resolved.created:
            # A new customer, its identity and its duplicate candidates are not flushed here:
            # they go in with the conversation (whose flush writes the customer first). The
            # search runs before that flush, so the new customer is not among its candidates.
            with session.no_autoflush:
                await record_duplicate_candidates(
                    session, customer, resolved.identity, self.settings.ingest.fuzzy_threshold, now
                )
        for interceptor in self.hooks.interceptors:
            if not interceptor.claims(inbound):
                continue
            if customer.id is None:  # interceptors work with the customer's and identity's ids
                await session.flush()
                note_new_customer(session, customer.id)
            kept = await interceptor.take(session, inbound, customer, resolved.identity, now)
            if kept is not None:
                taken = await self._taken(
                    session, inbound, interceptor, kept, customer, resolved.identity, now
                )
                batch.existing[(inbound.channel, inbound.external_id)] = IngestResult(
                    taken.message_id, taken.conversation_id, taken.customer_id, duplicate=True
                )
                return taken
        known = None if resolved.created else batch.conversation(customer.id, inbound)
        if known is not None:
            threaded = Threaded(known, created=False, reopened=False)
        else:
            threaded = await thread_message(
                session,
                inbound,
                customer,
                resolved.identity,
                now,
                new_customer=resolved.created,
                by_channel=await self.hooks.find_conversation(session, inbound, customer.id, now),
                none_known=batch.none_to_thread_into(customer.id, inbound),
            )
            if customer.id is None:  # a new customer's mail found an existing conversation
                await session.flush()
            batch.remember_conversation(threaded.conversation)
        if resolved.created:
            note_new_customer(session, customer.id)
        conversation = threaded.conversation
        message = Message(
            **message_fields(inbound, conversation.id, customer.id, resolved.identity.id, now)
        )
        session.add(message)
        await self.hooks.record(session, message, inbound, conversation, now, self.settings)
        conversation.last_inbound_at = now
        conversation.last_activity_at = now
        customer.last_contact_at = now
        ticket_number = None
        if threaded.created:
            ticket_number = await self._new_conversation(session, inbound, customer, threaded, now)
        staged = Staged(message, conversation, customer, ticket_number, created=threaded.created)
        batch.stage(inbound, staged)
        return staged

    async def _taken(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        interceptor: Interceptor,
        kept: Conversation,
        customer: Customer,
        identity: Identity,
        now: datetime,
    ) -> IngestResult:
        """Keep a message an interceptor took in the conversation it gave: stored and recorded
        as any message is, but not routed, ticketed, acknowledged or reopened."""
        message = Message(**message_fields(inbound, kept.id, customer.id, identity.id, now))
        session.add(message)
        await self.hooks.record(session, message, inbound, kept, now, self.settings)
        kept.last_activity_at = now
        await session.flush()
        await interceptor.after(session, message, inbound, kept, now)
        ids = MessageId(message.id), ConversationId(kept.id), CustomerId(customer.id)
        return IngestResult(*ids, duplicate=False)

    async def _new_conversation(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        threaded: Threaded,
        now: datetime,
    ) -> int | None:
        conversation = threaded.conversation
        decision = await self.engine.route_new(session, inbound, customer, conversation, now)
        if not decision.open_ticket:
            return None
        ticket = await open_ticket(
            session,
            conversation,
            self.settings.sla.get(decision.priority),
            now,
        )
        ticket.category = decision.category  # written with the next flush
        await self.engine.acknowledgements.send(
            session,
            inbound,
            customer,
            conversation,
            ticket.number,
            now,
            allowed=self.hooks.auto_reply_allowed,
        )
        return ticket.number


@contextmanager
def keeping_written(session: AsyncSession) -> Iterator[list[object]]:
    """Rows this session writes stay in it (it holds rows weakly) while the batch runs, so
    the steps after the one that wrote a row find it instead of reading it back."""
    written: list[object] = []

    def keep(_session: Session, instance: object) -> None:
        written.append(instance)

    event.listen(session.sync_session, "pending_to_persistent", keep)
    try:
        yield written
    finally:
        event.remove(session.sync_session, "pending_to_persistent", keep)


def _unwritten(outcomes: list[Pending]) -> bool:
    """Some message staged through the ORM has no id yet (one into a known conversation)."""
    return any(isinstance(o, Staged) and o.message.id is None for o in outcomes)


def _reported(message: Message, conversation: Conversation) -> bool:
    """A customer's own message starts report clocks; an automated one (an auto-reply) does
    not, nor one that closed its conversation (a survey answer, spam)."""
    return not message.automated and conversation.status != ConversationStatus.RESOLVED


def _plain_arrivals(plains: list[Plain]) -> list[Arrival]:
    return [
        Arrival(plain.conversation, plain.message_id, plain.row["created_at"], tier=plain.tier)
        for plain in plains
        if not plain.row["automated"]
    ]


def _stored(messages: list[InboundMessage], outcomes: list[Pending]) -> list[StoredMessage]:
    """The batch's new customer messages, as the ``after_stored`` hooks hear of them."""
    found: list[StoredMessage] = []
    for inbound, outcome in zip(messages, outcomes, strict=True):
        if isinstance(outcome, Staged) and not outcome.duplicate:
            message = outcome.message
            ids = (message.id, message.conversation_id, message.customer_id, message.identity_id)
        elif isinstance(outcome, Plain):
            row = outcome.row
            ids = (
                outcome.message_id,
                row["conversation_id"],
                row["customer_id"],
                row["identity_id"],
            )
        else:
            continue
        found.append(
            StoredMessage(
                *ids,
                channel=inbound.channel,
                sender_kind=inbound.sender.kind.value,
                reply_to_ids=tuple(inbound.reply_to_ids),
                automated=inbound.automated,
            )
        )
    return found
