"""Tables of the privacy side: which customers were erased, when and by whom (the personal data
itself is gone; this row is what tells a second erase that there is nothing left to do)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class CustomerErasure(Base):
    """One erased customer; ``counts`` says how much was anonymised or deleted."""

    __tablename__ = "customer_erasures"
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    erased_at: Mapped[datetime]
