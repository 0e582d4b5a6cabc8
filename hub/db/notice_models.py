"""Which staff member has read which notice (hub.core.notices writes the notices; a notice for
every admin is read by each admin on their own)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base


class NoticeRead(Base):
    __tablename__ = "notice_reads"
    notice_id: Mapped[int] = mapped_column(
        ForeignKey("admin_notices.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    read_at: Mapped[datetime]
