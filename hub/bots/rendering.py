"""Rich bot messages shown on a channel. Channels without native buttons get a readable
fallback: the text, then the options numbered, so that a reply "2" picks option 2."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from hub.bots import texts
from hub.bots.wire import Button, RichMessage
from hub.config.settings import Settings

DIGIT = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")
PRESSED = re.compile(r"^\[button\]\s*(.+)$", re.S)
NATIVE = ("telegram", "widget")  # channel kinds that show buttons under the message


def native(settings: Settings, channel: str) -> bool:
    config = settings.channels.get(channel)
    return config is not None and config.kind in NATIVE


def as_text(message: RichMessage) -> str:
    if not message.buttons:
        return message.text + "\n"
    lines = [message.text, ""] if message.text else []
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
        return str(raw.get("button") or (found.group(1) if found else text)).strip()
    digit = DIGIT.match(text)
    if digit is None or not offered:
        return None
    index = int(digit.group(1)) - 1
    if 0 <= index < len(offered) and isinstance(offered[index], Mapping):
        payload = offered[index].get("payload")
        return str(payload) if payload else None
    return None
