"""Tables of the chat channels (Telegram, Slack): generated secrets, file fetches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base
from hub.db.queue_columns import QueuedWork


class ChannelSecret(Base):
    """A secret the hub generated for a channel and registered with the provider (the
    Telegram webhook secret token), so that it survives restarts without a config edit."""

    __tablename__ = "channel_secrets"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]


class ChatFileFetch(QueuedWork, Base):
    """The fetch of one file a customer sent through a chat provider (``file_ref``: the
    provider's file id) into ``stored_files`` at the message's attachment ``position``.
    ``state``: pending (tried at ``next_attempt_at``), stored, not_kept (over the size cap)
    or failed (given up; ``last_error`` says why)."""

    __tablename__ = "chat_file_fetches"
    __table_args__ = (
        UniqueConstraint("message_id", "position"),
        Index("ix_chat_file_fetches_due", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"))
    position: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    file_ref: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
