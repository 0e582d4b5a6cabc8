"""Edits of inbound chat messages: the stored message takes the new text and keeps every
earlier version in ``raw["edits"]``; an edit is never a new message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.db.models import Message

MAX_EDITS = 50


async def apply_edit(
    session: AsyncSession, inbound: InboundMessage, now: datetime
) -> Message | None:
    """Record ``inbound`` (an edit) on the message it changes. None when that message was
    never stored (sent before the bot could see it): the caller then stores it as new."""
    original = await session.scalar(
        select(Message).where(
            Message.channel == inbound.channel, Message.external_id == inbound.external_id
        )
    )
    if original is None:
        return None
    raw: dict[str, Any] = dict(original.raw or {})
    edits: list[dict[str, Any]] = list(raw.get("edits") or [])
    edit_id = inbound.raw.get("edit_id")
    replayed = edit_id is not None and any(edit.get("edit_id") == edit_id for edit in edits)
    if replayed or inbound.text == original.text:
        return original
    edits.append({"text": original.text, "replaced_at": now.isoformat(), "edit_id": edit_id})
    raw["edits"] = edits[-MAX_EDITS:]
    original.raw = raw
    original.text = inbound.text
    return original
