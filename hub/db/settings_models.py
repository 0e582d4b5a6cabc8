"""The settings overlay: settings an admin changed in the console, one row per editable key
(``instance_name``, ``web.public_url``, ``sla``, ``calendars``, ...). A row's JSON value
replaces the file's value; a null value means "back to the file". ``version`` only ever grows,
so every hub process notices a change (hub.admin.settings_store)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, JSONType


class SettingOverride(Base):
    __tablename__ = "setting_overrides"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any | None] = mapped_column(JSONType, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    updated_at: Mapped[datetime]
