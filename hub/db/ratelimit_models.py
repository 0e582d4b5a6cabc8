"""Rate-limit counters shared by every hub process: one row per limited thing (a public form's
client, a widget visitor, a widget client address), counting its hits in the current window."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class RateCounter(Base):
    """``scope`` names the limit (e.g. "form", "widget-ip-messages"); ``key`` is the SHA-256 of
    what it counts (no client address is stored in the clear). The window opens at the first
    hit and lasts the limit's window; a hit after it opens a new one."""

    __tablename__ = "rate_counters"
    __table_args__ = (Index("ix_rate_counters_window", "window_start"),)
    scope: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime]
