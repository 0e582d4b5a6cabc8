"""The admin audit log: every admin change recorded in the same transaction as the change
itself, so the log can never say something happened that did not (or miss what did)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.admin_models import AdminChange
from hub.db.models import Agent


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


async def record_change(
    session: AsyncSession,
    *,
    actor_id: int | None,
    area: str,
    action: str,
    target: str,
    old: Any = None,
    new: Any = None,
    at: datetime,
) -> None:
    """Add one audit row (flushed with the caller's transaction, never committed here).
    ``old``/``new`` are strings or JSON-able values; secrets must be masked by the caller."""
    label = ""
    if actor_id is not None:
        label = await session.scalar(select(Agent.email).where(Agent.id == actor_id)) or ""
    session.add(
        AdminChange(
            actor_id=actor_id,
            actor_label=label,
            area=area,
            action=action,
            target=target[:300],
            old_value=_text(old),
            new_value=_text(new),
            created_at=at,
        )
    )


@dataclass(frozen=True, slots=True)
class ChangeRow:
    id: int
    at: datetime
    actor: str
    area: str
    action: str
    target: str
    old: str
    new: str


async def recent_changes(
    session: AsyncSession, *, area: str | None = None, before_id: int | None = None, limit: int = 50
) -> Sequence[ChangeRow]:
    """Newest first; ``before_id`` pages back."""
    query = select(AdminChange).order_by(AdminChange.id.desc()).limit(limit)
    if area is not None:
        query = query.where(AdminChange.area == area)
    if before_id is not None:
        query = query.where(AdminChange.id < before_id)
    rows = await session.scalars(query)
    return [
        ChangeRow(
            id=row.id,
            at=row.created_at,
            actor=row.actor_label or "system",
            area=row.area,
            action=row.action,
            target=row.target,
            old=row.old_value,
            new=row.new_value,
        )
        for row in rows
    ]
