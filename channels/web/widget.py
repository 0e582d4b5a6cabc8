"""The web chat widget channel: a visitor chats over a WebSocket served by the hub. This adapter
reads the visitor's frames (JSON text) into ``InboundMessage`` and other typed frames, and hands
outbound messages to the hub's delivery hook (live socket, or email when the visitor is away).
It never touches the database; the hub owns sockets, visitors and persistence."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from channels import strict_json
from channels.base import (
    ChannelRejected,
    DeliveryResult,
    IdentityKind,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    Party,
)
from channels.config import ChannelConfig
from channels.validation import clean_line, normalize_email
from channels.web.form import message_text

# Decides how an outbound message reaches the visitor; installed by the hub at start-up.
Delivery = Callable[[str, OutboundMessage], Awaitable[DeliveryResult]]
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_FILES = 50  # per message frame; the hub's [attachments] max_files is checked too


def origin_of(value: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased (the form browsers send as Origin)."""
    parts = urlsplit(value.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


class WidgetChannelConfig(ChannelConfig):
    # The greeting and the conversation are enough: no acknowledgement by default.
    ack_template: str = ""
    title: str = "Chat with us"
    greeting: str = "Hi! How can we help? We usually answer within minutes."
    # Sites allowed to embed the widget and open its socket (the hub's own origin always is).
    allowed_origins: tuple[str, ...] = ()
    # Email channel that carries replies while the visitor is away (if they left an address).
    email_fallback_channel: str | None = None
    # A visitor who left less than this long ago may be reloading a page: wait before emailing.
    offline_grace_seconds: float = Field(30.0, ge=0)
    # How long a reply may wait for a socket held by another hub process to push it.
    push_wait_seconds: float = Field(2.0, gt=0)
    max_message_chars: int = Field(4000, ge=10, le=100_000)
    max_frame_bytes: int = Field(16 * 1024, ge=1024, le=1024 * 1024)
    messages_per_minute: int = Field(30, ge=1)  # per visitor
    ip_messages_per_minute: int = Field(120, ge=1)
    ip_connections_per_minute: int = Field(60, ge=1)

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = []
        for item in value:
            parts = urlsplit(item.strip())
            if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path.strip("/"):
                raise ValueError(f"{item!r} is not an origin like https://shop.example.com")
            cleaned.append(origin_of(item))
        return tuple(cleaned)

    def recipient_kind(self) -> IdentityKind:
        return IdentityKind.WEB


class FrameError(Exception):
    """A frame the widget cannot accept; answered with an error frame, the socket stays open."""

    def __init__(self, code: str, message: str, client_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.client_id = client_id


# Row ids are 32-bit integers on PostgreSQL: a larger number names no message or upload.
MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Hello:
    token: str | None
    since: int
    # The page the visitor is on (the embedding site's, passed in by embed.js), if known.
    page: str = ""
    title: str = ""


MAX_PAGE_CHARS = 2048


def _page(payload: dict[str, Any]) -> tuple[str, str]:
    """The visitor's page address (http or https, else none) and title, both optional."""
    page, title = payload.get("page", ""), payload.get("title", "")
    if not isinstance(page, str) or not isinstance(title, str):
        raise FrameError("invalid_field", "page and title must be strings")
    parts = urlsplit(page.strip()[:MAX_PAGE_CHARS])
    address = parts.geturl() if parts.scheme in {"http", "https"} and parts.netloc else ""
    return address, clean_line(" ".join(title.split()), 200)


@dataclass(frozen=True, slots=True)
class SendText:
    client_id: str
    text: str
    # Ids of files the visitor uploaded (POST /widget/{channel}/uploads) for this message.
    files: tuple[int, ...] = ()
    # The payload of the bot's button the visitor pressed (the text is the button's title).
    button: str | None = None


@dataclass(frozen=True, slots=True)
class LeaveEmail:
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Ping:
    pass


Frame = Hello | SendText | LeaveEmail | Ping


def _string(payload: dict[str, Any], key: str, *, client_id: str | None = None) -> str:
    value = payload.get(key, "")
    if not isinstance(value, str):
        raise FrameError("invalid_field", f"{key} must be a string", client_id)
    return value


def _file_ids(value: Any, client_id: str) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in value
    ):
        raise FrameError("invalid_field", "files must be a list of upload ids", client_id)
    if len(value) > MAX_FILES:
        raise FrameError("too_many_files", f"at most {MAX_FILES} files per message", client_id)
    if len(set(value)) != len(value):
        raise FrameError("invalid_field", "files lists the same upload twice", client_id)
    return tuple(value)


class WidgetChannel:
    def __init__(self, name: str, config: WidgetChannelConfig) -> None:
        self.name = name
        self.config = config
        self._delivery: Delivery | None = None

    def use_delivery(self, delivery: Delivery | None) -> None:
        self._delivery = delivery

    # -- inbound -------------------------------------------------------------------------
    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        raise ChannelRejected(
            400, "wrong_transport", f"widget {self.name} takes messages on its WebSocket only"
        )

    def parse_frame(self, data: str) -> Frame:
        """One text frame from the visitor's socket; raises ``FrameError`` naming the problem."""
        if len(data.encode()) > self.config.max_frame_bytes:
            limit = self.config.max_frame_bytes
            raise FrameError("too_large", f"frame is larger than {limit} bytes")
        try:
            payload = strict_json.loads(data)
        except strict_json.JsonRefused as exc:
            raise FrameError("invalid_json", f"frame is not valid JSON: {exc}") from None
        if not isinstance(payload, dict):
            raise FrameError("invalid_frame", "frame must be a JSON object with a type")
        kind = payload.get("type")
        if kind == "hello":
            token = payload.get("token")
            since = payload.get("since", 0)
            if token is not None and not isinstance(token, str):
                raise FrameError("invalid_field", "token must be a string")
            if not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= MAX_ID:
                raise FrameError("invalid_field", "since must be a message id (0 or more)")
            return Hello(token or None, since, *_page(payload))
        if kind == "message":
            raw_id = payload.get("id")
            if not isinstance(raw_id, str) or not _CLIENT_ID.match(raw_id):
                raise FrameError(
                    "invalid_field", "id must be 1-64 letters, digits, - or _ (made by the client)"
                )
            text = message_text(_string(payload, "text", client_id=raw_id))
            files = _file_ids(payload.get("files", []), raw_id)
            if not text and not files:
                raise FrameError("empty_message", "text is empty", raw_id)
            if len(text) > self.config.max_message_chars:
                limit = self.config.max_message_chars
                raise FrameError("too_long", f"text is longer than {limit} characters", raw_id)
            button = payload.get("button")
            if button is not None and (not isinstance(button, str) or not 0 < len(button) <= 64):
                raise FrameError("invalid_field", "button must be 1-64 characters", raw_id)
            return SendText(raw_id, text, files, button)
        if kind == "email":
            email = normalize_email(_string(payload, "email"))
            if email is None:
                raise FrameError("invalid_email", "email is not a valid email address")
            return LeaveEmail(email, clean_line(_string(payload, "name"), 300))
        if kind == "ping":
            return Ping()
        known = "hello, message, email, ping"
        raise FrameError("unknown_type", f"unknown frame type {kind!r} (known: {known})")

    def inbound(self, visitor_id: str, name: str, frame: SendText) -> InboundMessage:
        """The visitor's message; its external id makes a resend of the same frame a duplicate."""
        return InboundMessage(
            channel=self.name,
            external_id=f"widget:{visitor_id}:{frame.client_id}",
            sender=Party(IdentityKind.WEB, visitor_id, name or None),
            text=frame.text,
            received_at=datetime.now(UTC),
            raw={"visitor": visitor_id, "client_id": frame.client_id}
            | ({"files": list(frame.files)} if frame.files else {})
            | ({"button": frame.button} if frame.button else {}),
        )

    # -- outbound ------------------------------------------------------------------------
    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if self._delivery is None:
            return DeliveryResult.failed(f"widget channel {self.name} has no live-socket hub yet")
        if not message.text.strip() and not message.attachments:
            return DeliveryResult.failed("nothing to send: empty text", permanent=True)
        return await self._delivery(self.name, message)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._delivery = None
