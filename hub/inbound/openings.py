"""New conversations a batch opens, written together.

A message that opens a conversation used to be written on its own: its conversation (with a
new customer and identity) was flushed at once, because every later row needs its id. In a
group commit of first messages that is one flush of three or four single-row inserts per
message. Now such a message waits, its rows added to the session, until something in the
batch needs them: then one flush writes all waiting customers, identities and conversations,
each table's rows in one statement, and the rest of each message follows in arrival order.

A message may wait only when nothing it does before that flush depends on a waiting one: a
first or only message (no edit, no reply ids, nothing an interceptor may take) from a sender
the batch read up front, opening a new conversation, not from a waiting sender or customer and
not a copy of a waiting message. A mail also asks its area's threading first (tokens, ticket
numbers and subjects of conversations written before): when that finds a conversation, the
mail does not wait. Any other message writes the waiting ones first, so each message still
sees the batch as if the ones before it were written one by one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from channels.base import InboundKind, InboundMessage
from hub.core.customers import Resolved
from hub.db.models import Conversation
from hub.inbound.batch import BatchContext
from hub.inbound.hooks import IngestHooks
from hub.inbound.results import IngestResult, Pending


@dataclass(slots=True)
class Opening:
    """A message whose new conversation is in the session, not yet written."""

    index: int  # the message's place in the batch
    inbound: InboundMessage
    resolved: Resolved
    conversation: Conversation
    now: datetime

    def result(self) -> IngestResult:
        raise RuntimeError("a waiting conversation was never written")


@dataclass(slots=True)
class Openings:
    """The batch's waiting openings and what they hold back; each one's outcome goes into
    ``outcomes`` (the batch's, one per message in arrival order) once it is written."""

    outcomes: list[Pending]
    waiting: list[Opening] = field(default_factory=list)
    _messages: set[tuple[str, str]] = field(default_factory=set)  # (channel, external id)
    _senders: set[tuple[str, str]] = field(default_factory=set)  # (kind, address)
    _customers: set[int] = field(default_factory=set)  # known customers with one waiting

    def may_wait(self, inbound: InboundMessage, batch: BatchContext, hooks: IngestHooks) -> bool:
        """The message would open a new conversation needing nothing of a waiting one (a mail's
        threading still has its say in ``Pipeline.stage``)."""
        if (
            not batch.prefetched
            or inbound.kind is not InboundKind.MESSAGE
            or inbound.reply_to_ids
            or hooks.intercepts(inbound)  # an interceptor may take it out of support
            or (inbound.channel, inbound.external_id) in self._messages
            or (inbound.sender.kind.value, inbound.sender.address) in self._senders
        ):
            return False
        resolved = batch.resolved(inbound.sender)
        if resolved is None:  # a new customer (unless the batch knows the sender another way)
            return batch.unknown(inbound.sender)
        customer_id = resolved.customer.id
        return (
            customer_id is not None
            and customer_id not in self._customers
            and batch.conversation(customer_id, inbound) is None
            and batch.none_to_thread_into(customer_id, inbound)
        )

    def add(self, opening: Opening) -> None:
        inbound = opening.inbound
        self.waiting.append(opening)
        self._messages.add((inbound.channel, inbound.external_id))
        self._senders.add((inbound.sender.kind.value, inbound.sender.address))
        if not opening.resolved.created:
            self._customers.add(opening.resolved.customer.id)

    def take(self) -> list[Opening]:
        waiting, self.waiting = self.waiting, []
        self._messages.clear()
        self._senders.clear()
        self._customers.clear()
        return waiting

    @staticmethod
    def created_after(waiting: list[Opening]) -> list[frozenset[int]]:
        """Per opening, the ids of the customers the openings after it created (written, so
        with ids): its duplicate search leaves them out, as it would have run before them."""
        later: list[frozenset[int]] = []
        after: frozenset[int] = frozenset()
        for opening in reversed(waiting):
            later.append(after)
            if opening.resolved.created:
                after = after | {opening.resolved.customer.id}
        return later[::-1]
