"""Email-specific rows: the raw mail and its parts next to each message, attachment contents,
mailbox state (IMAP position, connection health), participants, and conversation merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.db.base import Base, JSONType
from hub.db.models import Message

# JSON where Python None is SQL NULL (not the JSON value null), so "IS NULL" finds it.
NULLABLE_JSON = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


class EmailRecord(Base):
    """One received mail, exactly once per Message-ID (the dedupe key across mailboxes)."""

    __tablename__ = "email_messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    header_id: Mapped[str] = mapped_column(String(500), unique=True)
    envelope_from: Mapped[str | None] = mapped_column(String(500))
    envelope_to: Mapped[list[str]] = mapped_column(JSONType, default=list)
    from_address: Mapped[str] = mapped_column(String(320), default="")
    recipients: Mapped[dict[str, Any]] = mapped_column(default=dict)
    headers: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    full_text: Mapped[str] = mapped_column(Text, default="")
    quoted_text: Mapped[str] = mapped_column(Text, default="")
    signature: Mapped[str] = mapped_column(Text, default="")
    html_original: Mapped[str | None] = mapped_column(Text)
    forwarded_from: Mapped[str | None] = mapped_column(String(500))
    bounce: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON)
    parse_error: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, default=0)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
    # Set before the message has an id; the flush fills in message_id.
    message: Mapped[Message | None] = relationship(lazy="raise")


class EmailAttachment(Base):
    """An attachment or inline image; ``content`` is NULL when it was over the size cap."""

    __tablename__ = "email_attachments"
    __table_args__ = (UniqueConstraint("email_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email_id: Mapped[int] = mapped_column(ForeignKey("email_messages.id"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(500))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content_id: Mapped[str | None] = mapped_column(String(500))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    stored: Mapped[bool] = mapped_column(Boolean, default=True)
    contains: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    email: Mapped[EmailRecord] = relationship(lazy="raise")
    message: Mapped[Message | None] = relationship(lazy="raise")


class EmailMailbox(Base):
    """Health and position of one inbound source (``imap`` or ``smtp``) of an email channel."""

    __tablename__ = "email_mailboxes"
    __table_args__ = (UniqueConstraint("channel", "source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(32), default="starting")
    detail: Mapped[str] = mapped_column(String(500), default="")
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    connected_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime | None]
    uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class EmailParticipant(Base):
    """Everyone who wrote to or was copied on a conversation's mail."""

    __tablename__ = "email_participants"
    __table_args__ = (UniqueConstraint("conversation_id", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300), default="")
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class ConversationMerge(Base):
    """``source`` was merged into ``target``: mail threaded to the source lands in the target."""

    __tablename__ = "conversation_merges"
    __table_args__ = (Index("ix_conversation_merges_target", "target_id"),)
    source_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]


# The lookups mail threading runs for every received mail (created by migration 0035):
# In-Reply-To/References by Message-ID across channels (the unique key starts with the
# channel), and a customer's active conversations by recent activity (the subject match).
THREADING_INDEXES: dict[str, tuple[str, tuple[str, ...]]] = {
    "ix_messages_external_id": ("messages", ("external_id",)),
    "ix_conversations_customer_activity": (
        "conversations",
        ("customer_id", "status", "last_activity_at"),
    ),
}
for _name, (_table_name, _columns) in THREADING_INDEXES.items():
    _table = Base.metadata.tables[_table_name]
    if _name not in {index.name for index in _table.indexes}:
        Index(_name, *(_table.c[column] for column in _columns))
