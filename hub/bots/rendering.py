"""Rich bot messages shown on a channel. Telegram, Slack and the widget show buttons and cards
natively (the adapters draw them from the message's ``raw``); other channels get a readable
fallback: the card's title, the text, the image's link, then the options numbered, so that a
reply "2" picks option 2."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hub.bots import texts
from hub.bots.wire import Button, RichMessage
from hub.config.settings import Settings

DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
PRESSED = re.compile(r"^\[button\]\s*(.+)$", re.S)
NATIVE = ("telegram", "slack", "widget")
CUT_BYTES = 64  # Telegram's callback_data  # channel kinds that show buttons under the message


def native(settings: Settings, channel: str) -> bool:
    config = settings.channels.get(channel)
    return config is not None and config.kind in NATIVE


def as_text(message: RichMessage) -> str:
    head = [message.title] if message.title else []
    if message.text:
        head.append(message.text)
    if message.image:
        head.append(texts.image_line(message.image))
    if not message.buttons:
        return "\n\n".join(head) + "\n"
    lines = ["\n\n".join(head), ""] if head else []
    for number, button in enumerate(message.buttons, start=1):
        where = f" ({button.url})" if button.url else ""
        lines.append(f"{number}. {button.title}{where}")
    if any(b.payload for b in message.buttons):
        lines += ["", texts.OPTIONS_HINT]
    return "\n".join(lines) + "\n"


def buttons_raw(buttons: Sequence[Button]) -> list[dict[str, str]]:
    return [
        {"title": b.title, **({"url": b.url} if b.url else {"payload": b.payload or b.title})}
        for b in buttons
    ]


def picked(text: str, raw: Mapping[str, Any] | None, offered: Sequence[Any]) -> str | None:
    """The payload a customer's message chose: a pressed button (Telegram's callback, the
    widget's press) or a number answering the last numbered options; None for plain words."""
    if raw and (raw.get("callback_query_id") or raw.get("button")):
        found = PRESSED.match(text)
        data = str(raw.get("button") or (found.group(1) if found else text)).strip()
        return _whole(data, offered)
    digit = DIGIT.match(text)
    if digit is None or not offered:
        return None
    index = int(digit.group(1)) - 1
    if 0 <= index < len(offered) and isinstance(offered[index], Mapping):
        payload = offered[index].get("payload")
        return str(payload) if payload else None
    return None


def _whole(data: str, offered: Sequence[Any]) -> str:
    """The payload a press carried, whole again when the channel had to cut it (Telegram's
    ``callback_data`` holds 64 bytes): the offered payload it is the start of."""
    for button in offered:
        payload = button.get("payload") if isinstance(button, Mapping) else None
        cut = isinstance(payload, str) and len(payload.encode()) > CUT_BYTES
        if cut and data and payload != data and str(payload).startswith(data):
            return str(payload)
    return data


def shown_raw(message: RichMessage) -> dict[str, Any]:
    """What is kept with the message (``raw``) to draw it again: buttons, and the card."""
    card = message.card
    return {"buttons": buttons_raw(message.buttons), **({"card": card} if card else {})}
