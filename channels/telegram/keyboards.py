"""Buttons under a Telegram message: an inline keyboard
(https://core.telegram.org/bots/api#inlinekeyboardmarkup), one button a row; a quick reply
carries its payload as ``callback_data`` (1-64 bytes: longer ones are cut at a character
boundary), a link button its ``url``. A press comes back as a ``callback_query`` update."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.base import Choice

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
