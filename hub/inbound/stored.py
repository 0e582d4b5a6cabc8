"""What a batch writes of each message and tells about it afterwards: an inbound message's
row, the rows the batch keeps in its session, the arrivals the reports count and the stored
messages the areas hear of."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from channels.base import Attachment, InboundMessage
from hub.core.sanitize import sanitize_html
from hub.db.models import Conversation, ConversationStatus, DeliveryState, Direction, Message
from hub.inbound.batch import Staged
from hub.inbound.batch_plain import Plain
from hub.inbound.hooks import StoredMessage
from hub.inbound.results import Pending
from hub.reports.record import Arrival


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


def unwritten(outcomes: list[Pending]) -> bool:
    """Some message staged through the ORM has no id yet (one into a known conversation)."""
    return any(isinstance(o, Staged) and o.message.id is None for o in outcomes)


def reported(message: Message, conversation: Conversation) -> bool:
    """A customer's own message starts report clocks; an automated one (an auto-reply) does
    not, nor one that closed its conversation (a survey answer, spam)."""
    return not message.automated and conversation.status != ConversationStatus.RESOLVED


def plain_arrivals(plains: list[Plain]) -> list[Arrival]:
    return [
        Arrival(plain.conversation, plain.message_id, plain.row["created_at"], tier=plain.tier)
        for plain in plains
        if not plain.row["automated"]
    ]


def stored_messages(messages: list[InboundMessage], outcomes: list[Pending]) -> list[StoredMessage]:
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
