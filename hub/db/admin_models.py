"""Tables of the admin console: the audit log of every admin change (who, when, what,
old -> new). Settings an admin stores in the database live beside it (hub.admin)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class AdminChange(Base):
    """One admin change: ``area`` (agents, teams, channels, routing, sla, templates, settings,
    privacy, ...), the object it touched as shown to people, and old -> new as JSON text."""

    __tablename__ = "admin_changes"
    __table_args__ = (
        Index("ix_admin_changes_created", "created_at", "id"),
        Index("ix_admin_changes_area", "area", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    actor_label: Mapped[str] = mapped_column(String(320), default="")
    area: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(300), default="")
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
