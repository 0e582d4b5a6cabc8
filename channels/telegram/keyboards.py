"""Buttons under a Telegram message: an inline keyboard
(https://core.telegram.org/bots/api#inlinekeyboardmarkup), one button a row; a quick reply
carries its payload as ``callback_data`` (1-64 bytes: longer ones are cut at a character
boundary), a link button its ``url``. A press comes back as a ``callback_query`` update.
A card or an image is a photo (sendPhoto by URL) captioned with the title and text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.base import Choice, OutboundMessage

MAX_CALLBACK_BYTES = 64
MAX_BUTTONS = 100


def callback_data(payload: str) -> str:
    data = payload.encode()[:MAX_CALLBACK_BYTES]
    return data.decode(errors="ignore") or "-"


def keyboard(choices: Sequence[Choice]) -> InlineKeyboardMarkup:
    rows = []
    for choice in choices[:MAX_BUTTONS]:
        if choice.url:
            rows.append([InlineKeyboardButton(choice.title, url=choice.url)])
        else:
            data = callback_data(choice.payload or choice.title)
            rows.append([InlineKeyboardButton(choice.title, callback_data=data)])
    return InlineKeyboardMarkup(rows)


MAX_CAPTION = 1024  # a photo's caption (https://core.telegram.org/bots/api#sendphoto)
NO_TEXT = "Options:"  # sendMessage needs text: buttons alone go under this


@dataclass(frozen=True, slots=True)
class Shown:
    """How a message goes out: a photo (``photo`` URL, with ``caption``) first, if any, then
    ``text`` in messages of at most 4096 characters; the keyboard goes under the last part."""

    photo: str | None
    caption: str | None
    text: str


def shown(message: OutboundMessage) -> Shown:
    """A card: its title over the text; with an image, a photo whose caption is title and text
    when they fit in 1024 characters, else the title alone and the text as its own message."""
    card = message.card
    body = message.text.strip()
    title = card.title if card and card.title else None
    whole = "\n\n".join(part for part in (title, body) if part)
    if card is None or card.image is None:
        text = whole if card else message.text
        return Shown(None, None, text if text.strip() or not message.choices else NO_TEXT)
    if len(whole) <= MAX_CAPTION:
        return Shown(card.image, whole or None, "")
    caption = title[:MAX_CAPTION] if title else None
    return Shown(card.image, caption, body)
