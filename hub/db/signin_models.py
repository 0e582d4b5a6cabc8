"""Sign-in throttling state, shared by every hub process: one row per (account, client) pair
and one per client, counting failed sign-ins in a window and holding a lockout's end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class SigninThrottle(Base):
    """``scope`` is "pair" (an account from a client) or "client"; ``key`` is the SHA-256 of
    what it counts (no email address or client address is stored in the clear)."""

    __tablename__ = "signin_throttles"
    __table_args__ = (Index("ix_signin_throttles_updated", "updated_at"),)
    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    updated_at: Mapped[datetime]
