"""After a button press: the message whose keyboard was pressed loses its quick replies (its
link buttons stay), so that the customer cannot press twice and send a second choice
(``remove_keyboard_after_press``, https://core.telegram.org/bots/api#editmessagereplymarkup)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from channels.base import InboundMessage


@dataclass(frozen=True, slots=True)
class Pressed:
    """The message a keyboard press came from, and the link rows to keep under it."""

    chat_id: int
    message_id: int
    links: list[list[dict[str, Any]]]


def pressed(message: InboundMessage) -> Pressed | None:
    """The keyboard message of a ``callback_query``; None for anything else, or when Telegram
    no longer shows the message (``date`` 0: older than 48 hours, it cannot be edited)."""
    if not message.raw.get("callback_query_id"):
        return None
    update = message.raw.get("update")
    query = update.get("callback_query") if isinstance(update, Mapping) else None
    origin = query.get("message") if isinstance(query, Mapping) else None
    if not isinstance(origin, Mapping) or not origin.get("date"):
        return None
    chat = origin.get("chat")
    if not isinstance(chat, Mapping) or not isinstance(origin.get("message_id"), int):
        return None
    markup = origin.get("reply_markup")
    rows = markup.get("inline_keyboard") if isinstance(markup, Mapping) else None
    links = [
        [dict(button) for button in row if isinstance(button, Mapping) and button.get("url")]
        for row in rows or ()
        if isinstance(row, list)
    ]
    return Pressed(int(chat["id"]), int(origin["message_id"]), [row for row in links if row])
