"""Tables of the chat channels (Telegram, Slack)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class ChannelSecret(Base):
    """A secret the hub generated for a channel and registered with the provider (the
    Telegram webhook secret token), so that it survives restarts without a config edit."""

    __tablename__ = "channel_secrets"
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
