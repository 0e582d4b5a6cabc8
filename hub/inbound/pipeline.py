"""The ingest pipeline, inside the caller's transaction: idempotency, customer, conversation,
routing, ticket, acknowledgement. One message or a batch take the same path (one message is a
batch of one whose shared reads were not done up front); what areas add comes in as hooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundKind, InboundMessage
from hub.config.settings import Settings
from hub.core.conversations import Threaded, announce_created, thread_message
from hub.core.customers import (
    Resolved,
    learn_name,
    record_duplicate_candidates,
    resolve_customer,
    returning_known_for,
)
from hub.core.ids import ConversationId, CustomerId, MessageId
from hub.core.tickets import TICKET_COUNTER, open_ticket, release_numbers, reserve_numbers
from hub.core.transaction_memo import note_new_customer
from hub.db.models import Conversation, Customer, Identity, Message
from hub.inbound.batch import BatchContext, Staged
from hub.inbound.batch_plain import Plain, write_plain
from hub.inbound.edits import apply_edit
from hub.inbound.hooks import IngestHooks, Interceptor
from hub.inbound.openings import Opening, Openings
from hub.inbound.results import IngestResult, Pending
from hub.inbound.stored import (
    keeping_written,
    message_fields,
    plain_arrivals,
    reported,
    stored_messages,
    unwritten,
)
from hub.platform.clock import Clock
from hub.platform.events import publish, written_together
from hub.reports.record import Arrival, Reports


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
        openings = Openings(outcomes)  # none waits while plain follow-ups are pending, nor after
        for inbound in messages:
            target = batch.plain_target(inbound)
            if target is None:
                if pending:  # written first, so message ids follow arrival across both ways
                    await session.flush()
                    await write_plain(session, pending, self.clock.now())
                    arrivals += plain_arrivals(pending)
                    pending = []
                if openings.may_wait(inbound, batch, self.hooks):
                    outcomes.append(
                        await self.stage(session, inbound, batch, openings, len(outcomes))
                    )
                    continue
                await self._open(session, openings, batch)
                outcomes.append(await self.stage(session, inbound, batch))
                continue
            await self._open(session, openings, batch)
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
        await self._open(session, openings, batch)
        if pending or unwritten(outcomes):
            await session.flush()  # message ids in arrival order; the staged ones are needed
        # Otherwise what is pending (a new conversation's ticket) goes with the reports' flush.
        now = self.clock.now()
        await write_plain(session, pending, now)
        arrivals += plain_arrivals(pending)
        await self.hooks.stored(session, stored_messages(messages, outcomes), now)
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
            if reported(outcome.message, outcome.conversation):
                message = outcome.message
                new = outcome.created
                arrivals.append(Arrival(outcome.conversation, message.id, message.created_at, new))
        await self.reports.customer_messages(session, arrivals)
        del preloaded, written
        return [o.result() for o in outcomes]

    async def stage(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        batch: BatchContext,
        openings: Openings | None = None,
        index: int = 0,
    ) -> Pending:
        """Add one message's rows to the session; ids are known after the next flush. With
        ``openings`` (the message may wait, see ``Openings.may_wait``), a new conversation is
        only added and waits there, as message ``index`` of the batch, for ``_open``."""
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
        by_channel, looked = None, openings is not None
        if openings is not None:  # a channel area's evidence (mail headers) first
            customer_id = None if resolved is None else resolved.customer.id
            by_channel = await self.hooks.find_conversation(session, inbound, customer_id, now)
            if by_channel is not None:  # it joins a conversation: the waiting ones go first
                await self._open(session, openings, batch)
                openings = None
        if resolved is None:
            known_new = batch.unknown(inbound.sender)
            resolved = await resolve_customer(
                session, inbound.sender, now, known_new=known_new, contact=True
            )
            batch.remember_sender(inbound.sender, resolved)
        else:
            learn_name(resolved.customer, inbound.sender)
        customer = resolved.customer
        if resolved.created and openings is None:  # a waiting one's search runs in ``_open``
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
                by_channel=by_channel
                if looked
                else await self.hooks.find_conversation(session, inbound, customer.id, now),
                none_known=batch.none_to_thread_into(customer.id, inbound),
                write=openings is None,
            )
            if openings is not None:
                assert threaded.created, "a message that may wait opens a conversation"
                opening = Opening(index, inbound, resolved, threaded.conversation, now)
                openings.add(opening)
                return opening
            if customer.id is None:  # a new customer's mail found an existing conversation
                await session.flush()
            batch.remember_conversation(threaded.conversation)
        return await self._store(session, inbound, resolved, threaded, batch, now)

    async def _open(self, session: AsyncSession, openings: Openings, batch: BatchContext) -> None:
        """Write the waiting new conversations, with their new customers and identities, in one
        flush (a statement per table), then the rest of each message in arrival order."""
        waiting = openings.take()
        if not waiting:
            return
        await session.flush()
        threshold = self.settings.ingest.fuzzy_threshold
        with session.no_autoflush:  # the candidates go in with the messages' rows
            for opening, later in zip(waiting, Openings.created_after(waiting), strict=True):
                resolved = opening.resolved
                if resolved.created:
                    await record_duplicate_candidates(
                        session,
                        resolved.customer,
                        resolved.identity,
                        threshold,
                        opening.now,
                        later=later,
                    )
        known = [o.resolved for o in waiting if not o.resolved.created]
        await reserve_numbers(session, TICKET_COUNTER, len(waiting))
        senders = [resolved.identity.id for resolved in known]
        await self.hooks.before_acknowledging(session, senders, waiting[0].now)
        async with returning_known_for(session, [resolved.customer.id for resolved in known]):
            for opening in waiting:
                conversation = opening.conversation
                await announce_created(session, conversation, opening.now)
                batch.remember_conversation(conversation)
                threaded = Threaded(conversation, created=True, reopened=False)
                openings.outcomes[opening.index] = await self._store(
                    session, opening.inbound, opening.resolved, threaded, batch, opening.now
                )
        await release_numbers(session, TICKET_COUNTER)  # those the routing decided no ticket for

    async def _store(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        resolved: Resolved,
        threaded: Threaded,
        batch: BatchContext,
        now: datetime,
    ) -> Staged:
        """The message's own rows in its conversation (threaded, with an id), and a new
        conversation's routing, ticket and acknowledgement."""
        customer = resolved.customer
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
