"""Tables of the admin console's people side: the one-time links that let an invited agent set
a first password, or any agent a new one after an admin's reset. Only a SHA-256 of each link's
secret is stored; a link works once, until it expires, and a newer link of the same agent
replaces it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class PasswordLink(Base):
    """``purpose``: invite (first password) or reset."""

    __tablename__ = "password_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
