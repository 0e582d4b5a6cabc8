"""The result of ingesting one inbound message."""

from __future__ import annotations

from dataclasses import dataclass

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
