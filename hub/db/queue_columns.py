"""The columns every work-queue table shares (jobs, the outbox, chat file fetches, snoozes), so
one implementation (hub/platform/queue.py) claims, leases, retries and dead-letters them all.
Each table adds its own ``state`` (``pending`` is claimable, ``failed`` is the dead letter) and
what its kind of work needs; ``next_attempt_at`` is when an item is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column


class QueuedWork:
    """Declarative mixin: failed attempts so far, when due, who holds the lease until when,
    and the last error (kept when the item is given up)."""

    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    locked_by: Mapped[str | None] = mapped_column(String(32))
    locked_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
