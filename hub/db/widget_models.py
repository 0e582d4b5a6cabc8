"""Tables of the web chat widget: visitors, their live sockets (presence, across processes) and
how each outbound widget message reached the visitor."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class WidgetVisitor(Base):
    """A browser the widget remembers (by its signed visitor token)."""

    __tablename__ = "widget_visitors"
    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    # The address the visitor left for replies while they are away.
    email: Mapped[str | None] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class WidgetConnection(Base):
    """One open socket; its lease is renewed while it lives, so a crashed process's sockets
    stop counting as live once the lease runs out."""

    __tablename__ = "widget_connections"
    __table_args__ = (Index("ix_widget_connections_visitor", "visitor_id", "lease_until"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class WidgetDelivery(Base):
    """How an outbound widget message reached the visitor: pushed to a live socket, or sent
    by email while they were away."""

    __tablename__ = "widget_deliveries"
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), primary_key=True)
    via: Mapped[str] = mapped_column(String(16))  # "socket" or "email"
    detail: Mapped[str] = mapped_column(String(500), default="")
    external_id: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime]


class WidgetUpload(Base):
    """A file a visitor uploaded in the chat: whose it is, and the message (by the client's id)
    that claimed it, so a resend attaches it once and another visitor cannot use it."""

    __tablename__ = "widget_uploads"
    __table_args__ = (Index("ix_widget_uploads_visitor", "visitor_id", "client_id"),)
    file_id: Mapped[int] = mapped_column(
        ForeignKey("stored_files.id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(String(64))
    visitor_id: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
