"""Tables of the bot gateway: registered bots (each with its own API token and signing secret),
the hub-held handoff state of each conversation a bot serves, and every delivery to a bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, JSONType


class Bot(Base):
    __tablename__ = "bots"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # faq, webhook, rasa
    url: Mapped[str | None] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(128))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    channels: Mapped[list[str]] = mapped_column(JSONType, default=list)
    teams: Mapped[list[str]] = mapped_column(JSONType, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_ms: Mapped[int] = mapped_column(Integer, default=5000)
    max_errors: Mapped[int] = mapped_column(Integer, default=3)
    handback_on_resolve: Mapped[bool] = mapped_column(Boolean, default=False)
    hours: Mapped[str | None] = mapped_column(String(64))  # a calendar's name; None: always
    max_turns_without_progress: Mapped[int] = mapped_column(Integer, default=0)  # 0: no limit
    created_at: Mapped[datetime]


class BotSession(Base):
    """Who holds one conversation: ``bot`` -> ``pending_human`` -> ``human`` (-> ``bot``)."""

    __tablename__ = "bot_sessions"
    __table_args__ = (Index("ix_bot_sessions_bot", "bot_id", "opened_at"),)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id"))
    channel: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(300))
    errors: Mapped[int] = mapped_column(Integer, default=0)
    stalled: Mapped[int] = mapped_column(Integer, default=0)  # bot turns in a row w/o progress
    last_answer: Mapped[str | None] = mapped_column(String(64))  # digest of the last answer
    opened_at: Mapped[datetime]
    handoff_at: Mapped[datetime | None]
    human_at: Mapped[datetime | None]


class BotDelivery(Base):
    """One attempt to deliver an event to a bot, as its delivery log shows it."""

    __tablename__ = "bot_deliveries"
    __table_args__ = (Index("ix_bot_deliveries_bot", "bot_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bot_id: Mapped[int] = mapped_column(ForeignKey("bots.id"))
    conversation_id: Mapped[int | None] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # ok, error, timeout
    http_status: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(500))
    bot_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
