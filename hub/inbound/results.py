"""The result of ingesting one inbound message: one shape for one message or a batch, whichever
way it was stored. While a batch runs, each message is ``Pending`` (its ids exist once the batch
is flushed); ``result()`` gives the one shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hub.core.ids import ConversationId, CustomerId, MessageId


@dataclass(frozen=True, slots=True)
class IngestResult:
    message_id: MessageId
    conversation_id: ConversationId
    customer_id: CustomerId
    duplicate: bool
    ticket_number: int | None = None
    # Nothing was queued for sending: a duplicate, or a plain follow-up (the outbox need not look).
    quiet: bool = False

    def result(self) -> IngestResult:
        return self


class Pending(Protocol):
    """A message of the running batch: stored through the ORM, written in bulk, a duplicate."""

    def result(self) -> IngestResult: ...
