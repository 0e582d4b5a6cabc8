"""Messages a channel sends in several parts (Telegram: a card's photo, then long text cut in
pieces, then files; Slack: the text, then each file): the provider ids of the parts delivered
so far are kept on the message (``raw.delivered_parts``), so that the next try, after a failure
or a crash part-way, resumes at the first part not yet delivered instead of sending the others
again."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hub.db.models import Message
from hub.platform.database import Database

log = logging.getLogger(__name__)
DELIVERED_PARTS = "delivered_parts"


def delivered(raw: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The parts an earlier try delivered, in order."""
    return tuple(str(part) for part in (raw or {}).get(DELIVERED_PARTS) or ())


def remember(message: Message, parts: tuple[str, ...]) -> None:
    if parts and delivered(message.raw) != parts:
        message.raw = {**(message.raw or {}), DELIVERED_PARTS: list(parts)}


def checkpoint(db: Database, message_id: int) -> Callable[[tuple[str, ...]], Awaitable[None]]:
    """What a channel calls after each part but the last: the parts so far, written at once
    (in their own transaction) so that a crash before the message is done loses none."""

    async def write(parts: tuple[str, ...]) -> None:
        try:
            async with db.writer() as session:
                message = await session.get(Message, message_id)
                if message is not None:
                    remember(message, parts)
                    await session.commit()
        except Exception:  # the send goes on: the outcome records the parts anyway
            log.exception("message %s: could not record its delivered parts", message_id)

    return write
