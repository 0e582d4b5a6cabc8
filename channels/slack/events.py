"""Slack Events API envelopes to ``InboundMessage``.

A Slack message is identified by ``"{channel}:{ts}"`` (so a retried delivery, or the
``app_mention`` twin of a ``message`` event, finds the stored one) and a Slack thread is a
conversation: ``thread_key = "{channel}:{thread_ts or ts}"``. Messages from bots, this app's
included, are ignored. One function per event type and message subtype, via dispatch tables.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels.base import (
    Attachment,
    ChannelRejected,
    IdentityKind,
    InboundKind,
    InboundMessage,
    Party,
)
from channels.slack.config import MEGABYTE, SlackChannelConfig

Event = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Source:
    channel: str
    config: SlackChannelConfig
    envelope: Mapping[str, Any]


def _bad(field: str, problem: str) -> ChannelRejected:
    return ChannelRejected(400, "invalid_event", f"{field}: {problem}", {field: problem})


def _field(event: Event, key: str, where: str = "event") -> str:
    value = event.get(key)
    if not isinstance(value, str) or not value:
        raise _bad(f"{where}.{key}", "is required and must be a non-empty string")
    return value


def _timestamp(ts: str, where: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(ts), UTC)
    except (ValueError, OverflowError):
        raise _bad(where, "is not a Slack timestamp") from None


def _from_bot(config: SlackChannelConfig, event: Event) -> bool:
    user = event.get("user")
    return (
        bool(event.get("bot_id"))
        or event.get("subtype") == "bot_message"
        or bool(config.bot_user_id and user == config.bot_user_id)
    )


def _files(config: SlackChannelConfig, event: Event) -> tuple[tuple[Attachment, ...], list[str]]:
    """Shared files as attachment metadata (``content_id`` = the Slack file id the hub fetches
    the content by); the text notes files over the size cap, which are not fetched."""
    attachments: list[Attachment] = []
    notes: list[str] = []
    files = event.get("files")
    for item in files if isinstance(files, list) else []:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or item.get("title") or "file")
        size = _int(item.get("size"))
        if size > config.max_attachment_bytes:
            limit = config.max_attachment_bytes / MEGABYTE
            notes.append(
                f"[{name} ({size / MEGABYTE:.1f} MB) not kept: larger than {limit:.1f} MB]"
            )
        content_type = str(item.get("mimetype") or "application/octet-stream")
        attachments.append(Attachment(name, content_type, size, content_id=item.get("id")))
    return tuple(attachments), notes


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _party(event: Event, where: str) -> Party:
    profile = event.get("user_profile")
    name = None
    if isinstance(profile, dict):
        name = profile.get("real_name") or profile.get("display_name") or None
    return Party(IdentityKind.SLACK, _field(event, "user", where), name)


def _raw(source: Source, event: Event) -> dict[str, Any]:
    return {
        "event_id": source.envelope.get("event_id"),
        "team_id": source.envelope.get("team_id"),
        "channel_type": event.get("channel_type"),
        "event": dict(event),
    }


def _posted(source: Source, event: Event) -> list[InboundMessage]:
    """A customer's message in a channel, a shared channel, a DM or a thread."""
    if _from_bot(source.config, event):
        return []
    channel = _field(event, "channel")
    ts = _field(event, "ts")
    thread_ts = event.get("thread_ts") if isinstance(event.get("thread_ts"), str) else None
    attachments, notes = _files(source.config, event)
    text = "\n".join(part for part in (_text(event.get("text")), *notes) if part)
    if not text and attachments:
        text = "[files: " + ", ".join(a.filename for a in attachments) + "]"
    return [
        InboundMessage(
            channel=source.channel,
            external_id=f"{channel}:{ts}",
            sender=_party(event, "event"),
            text=text,
            thread_key=f"{channel}:{thread_ts or ts}",
            reply_to_ids=(f"{channel}:{thread_ts}",) if thread_ts and thread_ts != ts else (),
            attachments=attachments,
            received_at=_timestamp(ts, "event.ts"),
            raw=_raw(source, event),
        )
    ]


def _changed(source: Source, event: Event) -> list[InboundMessage]:
    """``message_changed``: the customer edited a message; recorded on the stored one."""
    new = event.get("message")
    if not isinstance(new, dict):
        raise _bad("event.message", "is required for message_changed")
    if _from_bot(source.config, new):
        return []
    previous = event.get("previous_message")
    ts = new.get("ts") or (previous.get("ts") if isinstance(previous, dict) else None)
    if not isinstance(ts, str) or not ts:
        raise _bad("event.message.ts", "is required for message_changed")
    channel = _field(event, "channel")
    thread_ts = new.get("thread_ts") if isinstance(new.get("thread_ts"), str) else None
    raw = _raw(source, event)
    raw["edit_id"] = f"event:{event.get('ts') or source.envelope.get('event_id')}"
    return [
        InboundMessage(
            channel=source.channel,
            external_id=f"{channel}:{ts}",
            sender=_party(new, "event.message"),
            text=_text(new.get("text")),
            thread_key=f"{channel}:{thread_ts or ts}",
            received_at=_timestamp(str(event.get("ts") or ts), "event.ts"),
            raw=raw,
            kind=InboundKind.EDIT,
        )
    ]


def _ignored(source: Source, event: Event) -> list[InboundMessage]:
    return []


# Message subtypes agents see; any other (joins, deletions, topic changes) is ignored.
SUBTYPES: Mapping[str | None, Callable[[Source, Event], list[InboundMessage]]] = {
    None: _posted,
    "file_share": _posted,
    "thread_broadcast": _posted,
    "me_message": _posted,
    "message_changed": _changed,
}


def _message(source: Source, event: Event) -> list[InboundMessage]:
    subtype = event.get("subtype")
    return SUBTYPES.get(subtype if isinstance(subtype, str) else None, _ignored)(source, event)


EVENTS: Mapping[str, Callable[[Source, Event], list[InboundMessage]]] = {
    "message": _message,
    # The same message as its ``message`` event when both are subscribed: same id, stored once.
    "app_mention": _posted,
}


def translate(
    channel: str, config: SlackChannelConfig, envelope: Mapping[str, Any]
) -> list[InboundMessage]:
    """The messages an Events API delivery carries for agents (none for other events)."""
    if envelope.get("type") != "event_callback":
        return []
    event = envelope.get("event")
    if not isinstance(event, dict):
        raise _bad("event", "is required in an event_callback and must be an object")
    handler = EVENTS.get(str(event.get("type")), _ignored)
    return handler(Source(channel, config, envelope), event)
