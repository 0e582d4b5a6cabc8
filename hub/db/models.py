"""The domain model: rows only. Behaviour lives in the services that receive a session.
The areas' own tables are in ``hub/db/*_models.py``; ``hub.db.tables`` gathers them all."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, orm_insert_sentinel, relationship

from hub.db.base import Base, JSONType
from hub.db.queue_columns import QueuedWork


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MARKETER = "marketer"
    ADMIN = "admin"


class Presence(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class ConversationStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    NOTE = "note"
    EVENT = "event"


class DeliveryState(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    NONE = "none"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def _enum(cls: type[StrEnum]) -> String:
    return String(max(len(member.value) for member in cls))


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rr_cursor: Mapped[int | None] = mapped_column(Integer)


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(_enum(Role), default=Role.AGENT)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    open_count: Mapped[int] = mapped_column(Integer, default=0)
    presence: Mapped[str] = mapped_column(_enum(Presence), default=Presence.OFFLINE)
    skills: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class AgentTeam(Base):
    __tablename__ = "agent_teams"
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]  # refreshed at most every few minutes (web/auth.py)


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    name: Mapped[str] = mapped_column(String(300), default="")
    name_key: Mapped[str] = mapped_column(String(300), default="", index=True)
    company: Mapped[str] = mapped_column(String(300), default="")
    tier: Mapped[str] = mapped_column(String(32), default="standard")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    locale: Mapped[str] = mapped_column(String(35), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    preferred_channel: Mapped[str | None] = mapped_column(String(64))
    consent: Mapped[dict[str, Any]] = mapped_column(default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    created_at: Mapped[datetime]
    last_contact_at: Mapped[datetime | None]


class Identity(Base):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    display_name: Mapped[str] = mapped_column(String(300), default="")
    bouncing: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    # Set only for a customer created in the same flush (its id is not known yet): the flush
    # inserts the customer first and fills ``customer_id``. Never loaded.
    customer: Mapped[Customer] = relationship(lazy="raise")


class DuplicateCandidate(Base):
    __tablename__ = "duplicate_candidates"
    __table_args__ = (UniqueConstraint("customer_id", "candidate_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime]
    # As ``Identity.customer``: for a new customer written in the same flush. Never loaded.
    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id], lazy="raise")


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (
        Index("ix_conversations_open_lookup", "customer_id", "channel", "status"),
        Index("ix_conversations_thread", "channel", "thread_key"),
        Index("ix_conversations_activity", "last_activity_at", "id"),
        Index("ix_conversations_assignee", "assignee_id", "status", "last_activity_at"),
        Index("ix_conversations_team", "team_id", "status", "last_activity_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    token: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    channel: Mapped[str] = mapped_column(String(64))
    thread_key: Mapped[str | None] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(_enum(ConversationStatus), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    first_inbound_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    last_inbound_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    # The next SLA deadline (kept by hub.core.sla.sync_due; NULL: none applies). Migration 0007.
    sla_due_at: Mapped[datetime | None]
    # Who wrote last ("customer" or "agent"; bots, automated messages and failed deliveries do
    # not count), that message, and the customer's newest message: kept by triggers on
    # messages (migration 0021, docs/live.md), never written by the ORM.
    last_party: Mapped[str | None] = mapped_column(String(8))
    last_party_message_id: Mapped[int | None]
    last_customer_message_id: Mapped[int | None]
    # As ``Identity.customer``: a new customer and identity go in with their first
    # conversation, in one flush. Never loaded.
    customer: Mapped[Customer] = relationship(lazy="raise")
    identity: Mapped[Identity | None] = relationship(lazy="raise")


class Message(Base):
    """The interaction log: every inbound, outbound, note and system event, in one table."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        Index("ix_messages_customer", "customer_id", "id"),
        # The automatic replies an address got in the last hour (mail loop protection, on
        # every acknowledgement): a range, not a scan of the log. Migration 0021.
        Index("ix_messages_identity", "identity_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of messages in one statement on SQLite too.
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    direction: Mapped[str] = mapped_column(_enum(Direction))
    channel: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(500))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    author_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    subject: Mapped[str] = mapped_column(String(500), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    parse_error: Mapped[str | None] = mapped_column(Text)
    delivery_state: Mapped[str] = mapped_column(_enum(DeliveryState), default="none")
    delivery_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    number: Mapped[int] = mapped_column(Integer, unique=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    subject: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(_enum(TicketStatus), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    category: Mapped[str] = mapped_column(String(64), default="")
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxItem(QueuedWork, Base):
    """An outbound message waiting for (or done with) delivery; written with its cause.
    ``state``: pending, sent or failed (given up); ``attempts`` counts every try."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # Lets SQLAlchemy insert a batch of these in one statement on SQLite too (migration 0042).
    _sentinel: Mapped[int | None] = orm_insert_sentinel()
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), unique=True)
    # Set instead of message_id when the message is written in the same flush.
    message: Mapped[Message] = relationship(lazy="raise")
    channel: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(_enum(OutboxState), default="pending")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)
