"""Telegram ``Update`` objects (python-telegram-bot's own types) to ``InboundMessage``.

One function per update type and one per message content, chosen through dispatch tables.
A message is identified by ``"{chat_id}:{message_id}"``, so a replayed update or an edit of
it finds the stored one; the conversation is the chat (``thread_key`` = chat id).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import CallbackQuery, Chat, Message, Update, User, Voice

from channels.base import Attachment, IdentityKind, InboundKind, InboundMessage, Party
from channels.telegram.config import MEGABYTE, TelegramChannelConfig

GROUP_TYPES = {Chat.GROUP, Chat.SUPERGROUP}


@dataclass(frozen=True, slots=True)
class Source:
    """What every translation needs: the channel, its config and the update as received."""

    channel: str
    config: TelegramChannelConfig
    update: Update
    raw: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Content:
    text: str
    attachments: tuple[Attachment, ...] = ()


def message_key(chat_id: int, message_id: int) -> str:
    return f"{chat_id}:{message_id}"


def _party(user: User) -> Party:
    return Party(IdentityKind.TELEGRAM, str(user.id), user.full_name or user.username or None)


def _chat_record(chat: Chat) -> dict[str, Any]:
    return {
        "id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "group": chat.type in GROUP_TYPES,
    }


def _file(
    config: TelegramChannelConfig,
    label: str,
    filename: str,
    content_type: str,
    size: int | None,
    file_id: str,
    caption: str | None,
) -> Content:
    """A file message: the caption (or a label naming the file) and its metadata, with
    ``content_id`` = the Telegram file id the hub fetches the content by. The text says so
    when the file is larger than the channel allows (the hub does not fetch it then)."""
    text = caption or label
    attachment = Attachment(filename, content_type, size or 0, content_id=file_id)
    if size is not None and size > config.max_attachment_bytes:
        limit = config.max_attachment_bytes / MEGABYTE
        note = f"[{filename} ({size / MEGABYTE:.1f} MB) not kept: larger than {limit:.1f} MB]"
        return Content(f"{text}\n{note}", (attachment,))
    return Content(text, (attachment,))


def _seconds(media: Voice) -> int:
    """A duration in whole seconds (python-telegram-bot warns while it moves to timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: int | timedelta = media.duration
    return int(value.total_seconds()) if isinstance(value, timedelta) else int(value)


def _text(config: TelegramChannelConfig, message: Message) -> Content:
    return Content(message.text or "")


def _photo(config: TelegramChannelConfig, message: Message) -> Content:
    largest = max(message.photo, key=lambda size: (size.width * size.height, size.file_size or 0))
    return _file(
        config,
        "[photo]",
        "photo.jpg",
        "image/jpeg",
        largest.file_size,
        largest.file_id,
        message.caption,
    )


def _document(config: TelegramChannelConfig, message: Message) -> Content:
    document = message.document
    assert document is not None
    name = document.file_name or "document"
    return _file(
        config,
        f"[document: {name}]",
        name,
        document.mime_type or "application/octet-stream",
        document.file_size,
        document.file_id,
        message.caption,
    )


def _voice(config: TelegramChannelConfig, message: Message) -> Content:
    voice = message.voice
    assert voice is not None
    return _file(
        config,
        f"[voice message, {_seconds(voice)} s]",
        "voice.ogg",
        voice.mime_type or "audio/ogg",
        voice.file_size,
        voice.file_id,
        message.caption,
    )


def _audio(config: TelegramChannelConfig, message: Message) -> Content:
    audio = message.audio
    assert audio is not None
    name = audio.file_name or "audio.mp3"
    return _file(
        config,
        f"[audio: {name}]",
        name,
        audio.mime_type or "audio/mpeg",
        audio.file_size,
        audio.file_id,
        message.caption,
    )


def _video(config: TelegramChannelConfig, message: Message) -> Content:
    video = message.video
    assert video is not None
    name = video.file_name or "video.mp4"
    return _file(
        config,
        f"[video: {name}]",
        name,
        video.mime_type or "video/mp4",
        video.file_size,
        video.file_id,
        message.caption,
    )


def _sticker(config: TelegramChannelConfig, message: Message) -> Content:
    sticker = message.sticker
    assert sticker is not None
    if sticker.is_video:
        filename, content_type = "sticker.webm", "video/webm"
    elif sticker.is_animated:
        filename, content_type = "sticker.tgs", "application/x-tgsticker"
    else:
        filename, content_type = "sticker.webp", "image/webp"
    label = f"[sticker {sticker.emoji}]" if sticker.emoji else "[sticker]"
    return _file(config, label, filename, content_type, sticker.file_size, sticker.file_id, None)


def _venue(config: TelegramChannelConfig, message: Message) -> Content:
    venue = message.venue
    assert venue is not None
    where = f"{venue.location.latitude}, {venue.location.longitude}"
    return Content(f"[venue] {venue.title}, {venue.address} ({where})")


def _location(config: TelegramChannelConfig, message: Message) -> Content:
    location = message.location
    assert location is not None
    return Content(f"[location] {location.latitude}, {location.longitude}")


def _contact(config: TelegramChannelConfig, message: Message) -> Content:
    contact = message.contact
    assert contact is not None
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    return Content(f"[contact] {name}: {contact.phone_number}")


ContentReader = Callable[[TelegramChannelConfig, Message], Content]

# Checked in order: a venue message also carries a location, a captioned file has no text.
CONTENT: tuple[tuple[str, ContentReader], ...] = (
    ("text", _text),
    ("photo", _photo),
    ("document", _document),
    ("voice", _voice),
    ("audio", _audio),
    ("video", _video),
    ("sticker", _sticker),
    ("venue", _venue),
    ("location", _location),
    ("contact", _contact),
)


def _content(config: TelegramChannelConfig, message: Message) -> Content | None:
    for attribute, reader in CONTENT:
        if getattr(message, attribute):
            return reader(config, message)
    return None  # service messages (members joining, pinned messages, ...) are not for agents


def _from_message(source: Source, message: Message, kind: InboundKind) -> list[InboundMessage]:
    sender = message.from_user
    if sender is None or sender.is_bot:
        return []
    content = _content(source.config, message)
    if content is None:
        return []
    chat = message.chat
    raw: dict[str, Any] = {"update": dict(source.raw), "chat": _chat_record(chat)}
    received = message.date
    if kind is InboundKind.EDIT:
        raw["edit_id"] = f"update:{source.update.update_id}"
        received = message.edit_date or datetime.now(UTC)
    reply = message.reply_to_message
    return [
        InboundMessage(
            channel=source.channel,
            external_id=message_key(chat.id, message.message_id),
            sender=_party(sender),
            text=content.text,
            subject=chat.title if chat.type in GROUP_TYPES else None,
            thread_key=str(chat.id),
            reply_to_ids=(message_key(chat.id, reply.message_id),) if reply else (),
            attachments=content.attachments,
            received_at=received,
            raw=raw,
            kind=kind,
        )
    ]


def _message(source: Source) -> list[InboundMessage]:
    assert source.update.message is not None
    return _from_message(source, source.update.message, InboundKind.MESSAGE)


def _edited_message(source: Source) -> list[InboundMessage]:
    assert source.update.edited_message is not None
    return _from_message(source, source.update.edited_message, InboundKind.EDIT)


def _callback_query(source: Source) -> list[InboundMessage]:
    query: CallbackQuery | None = source.update.callback_query
    assert query is not None
    if query.from_user.is_bot:
        return []
    origin = query.message
    chat_id = origin.chat.id if origin is not None else query.from_user.id
    raw: dict[str, Any] = {"update": dict(source.raw), "callback_query_id": query.id}
    if origin is not None:
        raw["chat"] = _chat_record(origin.chat)
    else:
        raw["chat"] = {"id": chat_id, "type": Chat.PRIVATE, "title": None, "group": False}
    pressed = query.data or query.game_short_name or ""
    # With the quick replies taken off after a press (presses.py), a message takes one press:
    # a second tap that came before they left is the same press, stored and sent on once.
    key = None
    if source.config.remove_keyboard_after_press and origin is not None and origin.is_accessible:
        key = f"press:{message_key(chat_id, origin.message_id)}"
    return [
        InboundMessage(
            channel=source.channel,
            external_id=key or f"callback:{query.id}",
            sender=_party(query.from_user),
            text=f"[button] {pressed}".rstrip(),
            thread_key=str(chat_id),
            reply_to_ids=(message_key(chat_id, origin.message_id),) if origin else (),
            received_at=datetime.now(UTC),
            raw=raw,
        )
    ]


UPDATES: Mapping[str, Callable[[Source], list[InboundMessage]]] = {
    "message": _message,
    "edited_message": _edited_message,
    "callback_query": _callback_query,
}
ALLOWED_UPDATES = tuple(UPDATES)


def translate(
    channel: str, config: TelegramChannelConfig, update: Update, raw: Mapping[str, Any]
) -> list[InboundMessage]:
    """The messages an update carries for agents; empty for updates the hub does not handle."""
    source = Source(channel, config, update, raw)
    for field, handler in UPDATES.items():
        if getattr(update, field) is not None:
            return handler(source)
    return []
