"""Plain follow-ups (a known customer writing into their open conversation, with nothing else
to do) as the batch holds them, and their rows written with a handful of Core statements at the
end of the batch instead of ORM objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from hub.core.ids import ConversationId, CustomerId, MessageId
from hub.db.inbox_models import Event
from hub.db.models import Conversation, Customer, Message
from hub.inbound.results import IngestResult
from hub.platform.events import event_values

_MESSAGES, _EVENTS = cast(Table, Message.__table__), cast(Table, Event.__table__)
_INSERT_MESSAGES = insert(_MESSAGES).returning(_MESSAGES.c.id, sort_by_parameter_order=True)
_INSERT_EVENTS = insert(_EVENTS)
_TOUCH_CONVERSATIONS = (
    update(cast(Table, Conversation.__table__))
    .where(Conversation.__table__.c.id == bindparam("b_id"))
    .values(last_inbound_at=bindparam("b_at"), last_activity_at=bindparam("b_at"))
)
_TOUCH_CUSTOMERS = (
    update(cast(Table, Customer.__table__))
    .where(Customer.__table__.c.id == bindparam("b_id"))
    .values(last_contact_at=bindparam("b_at"))
)


@dataclass(frozen=True, slots=True)
class KnownSender:
    customer_id: int
    customer_name: str
    identity_id: int
    tier: str  # for the reports' slices (read with the sender, not again)


@dataclass(frozen=True, slots=True)
class KnownConversation:
    id: int
    customer_id: int
    channel: str
    thread_key: str | None
    status: str
    team_id: int | None
    assignee_id: int | None
    # A customer message changes nothing but the conversation's times: the SLA clock keeps its
    # state (see sla.note_customer_message) and no bot holds the conversation.
    quiet: bool


@dataclass(slots=True)
class Plain:
    """A plain follow-up, written in bulk; ``message_id`` is set once it is written."""

    row: dict[str, Any]
    conversation: KnownConversation
    now: datetime
    tier: str = ""  # the customer's
    message_id: int = 0

    def result(self, duplicate: bool = False) -> IngestResult:
        return IngestResult(
            MessageId(self.message_id),
            ConversationId(self.conversation.id),
            CustomerId(self.conversation.customer_id),
            duplicate=duplicate,
            quiet=True,
        )


@dataclass(frozen=True, slots=True)
class PlainDuplicate:
    original: Plain

    def result(self) -> IngestResult:
        return self.original.result(duplicate=True)


async def write_plain(session: AsyncSession, plains: Iterable[Plain], now: datetime) -> None:
    """Insert the plain follow-ups, their events, and move their conversations' and customers'
    times, in a handful of Core statements (in one greenlet)."""
    plains = list(plains)
    if plains:
        await session.run_sync(_write_plain, plains, now)


def _write_plain(session: Session, plains: list[Plain], now: datetime) -> None:
    connection = session.connection()
    ids = connection.scalars(_INSERT_MESSAGES, [plain.row for plain in plains])
    conversations: dict[int, dict[str, Any]] = {}
    customers: dict[int, dict[str, Any]] = {}
    events = []
    for plain, message_id in zip(plains, ids.all(), strict=True):
        plain.message_id = message_id
        known = plain.conversation
        events.append(
            event_values(
                "message", known.id, known.team_id, known.assignee_id, now, message_id=message_id
            )
        )
        conversations[known.id] = {"b_id": known.id, "b_at": plain.now}
        customers[known.customer_id] = {"b_id": known.customer_id, "b_at": plain.now}
    connection.execute(_INSERT_EVENTS, events)
    connection.execute(_TOUCH_CONVERSATIONS, list(conversations.values()))
    connection.execute(_TOUCH_CUSTOMERS, list(customers.values()))
