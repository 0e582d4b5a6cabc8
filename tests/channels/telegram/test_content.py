"""What agents see of each kind of Telegram message: text, photos, documents, voice notes,
stickers, locations, venues and contacts, with file metadata (never the file) as attachments."""

from __future__ import annotations

from typing import Any

import pytest

from hub.db.models import Role
from tests.channels.telegram.conftest import (
    as_update,
    post_update,
    telegram_fixture,
)
from tests.conftest import auth
from tests.support.desk import Desk

MB = 1024 * 1024


def _base() -> dict[str, Any]:
    """aiogram's MESSAGE with its text removed: the content comes from each case."""
    message = telegram_fixture("aiogram-v2-dataset", "message.json")
    del message["text"]
    return message


# Content fields as the Bot API documents them (https://core.telegram.org/bots/api#message).
CASES: dict[str, tuple[dict[str, Any], str, list[tuple[str, str, int, str]]]] = {
    "document": (
        {
            "document": {
                "file_id": "BQACAgIAAx0",
                "file_unique_id": "AgADBQ",
                "file_name": "invoice-2024.pdf",
                "mime_type": "application/pdf",
                "file_size": 48213,
            },
            "caption": "This invoice is wrong",
        },
        "This invoice is wrong",
        [("invoice-2024.pdf", "application/pdf", 48213, "BQACAgIAAx0")],
    ),
    "voice": (
        {
            "voice": {
                "file_id": "AwACAgIAAxk",
                "file_unique_id": "AgADvQ",
                "duration": 7,
                "mime_type": "audio/ogg",
                "file_size": 20480,
            }
        },
        "[voice message, 7 s]",
        [("voice.ogg", "audio/ogg", 20480, "AwACAgIAAxk")],
    ),
    "sticker": (
        {
            "sticker": {
                "file_id": "CAACAgIAAxk",
                "file_unique_id": "AgADcw",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": "👍",
                "file_size": 23000,
            }
        },
        "[sticker 👍]",
        [("sticker.webp", "image/webp", 23000, "CAACAgIAAxk")],
    ),
    "location": (
        {"location": {"latitude": 52.520008, "longitude": 13.404954}},
        "[location] 52.520008, 13.404954",
        [],
    ),
    "venue": (
        {
            "location": {"latitude": 48.8584, "longitude": 2.2945},
            "venue": {
                "location": {"latitude": 48.8584, "longitude": 2.2945},
                "title": "Eiffel Tower",
                "address": "Champ de Mars, Paris",
            },
        },
        "[venue] Eiffel Tower, Champ de Mars, Paris (48.8584, 2.2945)",
        [],
    ),
    "contact": (
        {
            "contact": {
                "phone_number": "+4915112345678",
                "first_name": "Erika",
                "last_name": "Mustermann",
                "user_id": 55501,
            }
        },
        "[contact] Erika Mustermann: +4915112345678",
        [],
    ),
    "oversized document": (
        {
            "document": {
                "file_id": "BQACAgIAAx1",
                "file_unique_id": "AgADBR",
                "file_name": "backup.zip",
                "mime_type": "application/zip",
                "file_size": 30 * MB,
            }
        },
        "[document: backup.zip]\n[backup.zip (30.0 MB) not kept: larger than 20.0 MB]",
        [("backup.zip", "application/zip", 30 * MB, "BQACAgIAAx1")],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_content_as_agents_see_it(tg: Desk, case: str) -> None:
    content, text, attachments = CASES[case]
    _, token = await tg.agent("lead@example.com", role=Role.SUPERVISOR)
    response = await post_update(tg, as_update(40, {**_base(), **content}))
    assert response.status == 200
    [stored] = await tg.inbound_messages()
    listed = await tg.client.get(
        f"/api/v1/conversations/{stored.conversation_id}/messages", headers=auth(token)
    )
    body = await listed.json()
    assert listed.status == 200, body
    [message] = [m for m in body["items"] if m["direction"] == "inbound"]
    assert message["text"] == text
    got = [
        (a["filename"], a["content_type"], a["size"], a["content_id"])
        for a in message["attachments"]
    ]
    assert got == attachments


@pytest.mark.parametrize(
    ("fixture", "caption", "size", "file_id"),
    [
        (
            "message_photo.json",
            "[photo]",
            75245,
            "AgADAgAD36sxG-PX0UvQSXIn9rccdw-ACA4ABAEAAwIAA3kAAyTcBAABFgQ",
        ),
        (
            "message_photo_caption_entities.json",
            "www.example.com",
            162061,
            "AgACAgQAAxkBAAINhGKvijUVSn2i3980bQIIc1fqWGNCAAJpvDEbEmaBUfuA43fR-BnlAQADAgADeQADJAQ",
        ),
    ],
)
async def test_photo_keeps_the_largest_size(
    tg: Desk, fixture: str, caption: str, size: int, file_id: str
) -> None:
    update = as_update(41, telegram_fixture("teloxide", fixture))
    assert (await post_update(tg, update)).status == 200
    [message] = await tg.inbound_messages()
    assert message.text == caption
    listed = ("filename", "content_type", "size", "content_id", "inline")  # as ingest lists it
    assert [{key: meta[key] for key in listed} for meta in message.attachments] == [
        {
            "filename": "photo.jpg",
            "content_type": "image/jpeg",
            "size": size,
            "content_id": file_id,
            "inline": False,
        }
    ]
