"""The channel contract: normalized message shapes and the protocol every adapter implements.

Adapters translate at the edge: provider payload in, ``InboundMessage`` out; ``OutboundMessage``
in, provider call out. They never touch the database; the hub owns persistence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable


class IdentityKind(StrEnum):
    EMAIL = "email"
    TELEGRAM = "telegram"
    SLACK = "slack"
    WEB = "web"
    API = "api"


class InboundKind(StrEnum):
    MESSAGE = "message"
    EDIT = "edit"


@dataclass(frozen=True, slots=True)
class Party:
    """Who sent or receives a message, as the provider names them."""

    kind: IdentityKind
    address: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    size: int
    content: bytes | None = None
    content_id: str | None = None
    inline: bool = False


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """A provider delivery, independent of the web framework or transport that carried it."""

    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    remote: str | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One message a customer sent, normalized across providers."""

    channel: str
    external_id: str
    sender: Party
    text: str
    received_at: datetime
    html: str | None = None
    subject: str | None = None
    thread_key: str | None = None
    reply_to_ids: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)
    kind: InboundKind = InboundKind.MESSAGE
    automated: bool = False
    parse_error: str | None = None

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Choice:
    """A button under a message: a quick reply (``payload`` comes back when pressed) or a link."""

    title: str
    payload: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Card:
    """A bot's card drawn natively: a ``title`` over the text and/or an ``image`` (an http(s)
    URL the provider fetches); the message's text and choices are the card's."""

    title: str | None = None
    image: str | None = None


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """One message the hub sends; ``message_id`` is the hub's id, used for idempotency."""

    message_id: int
    channel: str
    recipient: Party
    text: str
    html: str | None = None
    subject: str | None = None
    sender_name: str | None = None
    thread_key: str | None = None
    external_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()
    conversation_id: int | None = None
    automated: bool = False
    choices: tuple[Choice, ...] = ()  # buttons, for channels that show them natively
    card: Card | None = None  # a card or an image, for channels that show them natively
    # The provider ids of the parts an earlier try already delivered, in order: a channel that
    # sends one message as several calls resumes after them (see DeliveryResult.delivered).
    delivered: tuple[str, ...] = ()
    # Called with the parts delivered so far after each part but the last, for the hub to
    # record them at once: a crash before the message is done then repeats none of them.
    checkpoint: Callable[[tuple[str, ...]], Awaitable[None]] | None = None

    def has_content(self) -> bool:
        """Anything to send: text, a file, a card or buttons."""
        files = any(a.content is not None for a in self.attachments)
        return bool(self.text.strip() or files or self.card or self.choices)


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    ok: bool
    external_id: str | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    # The provider ids of the parts delivered so far, earlier tries' included: the hub keeps
    # them and hands them back (OutboundMessage.delivered) with the next try.
    delivered: tuple[str, ...] = ()

    @classmethod
    def sent(
        cls, external_id: str | None = None, *, delivered: tuple[str, ...] = ()
    ) -> DeliveryResult:
        return cls(ok=True, external_id=external_id, delivered=delivered)

    @classmethod
    def failed(
        cls,
        error: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        delivered: tuple[str, ...] = (),
    ) -> DeliveryResult:
        return cls(
            ok=False,
            error=error,
            permanent=permanent,
            retry_after=retry_after,
            delivered=delivered,
        )


class ChannelRejected(Exception):
    """The delivery is refused: bad signature, malformed payload. Nothing is stored."""

    def __init__(
        self, status: int, code: str, message: str, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields: Mapping[str, str] = fields or {}


@runtime_checkable
class Channel(Protocol):
    """What the hub needs from a provider adapter."""

    name: str

    def parse(self, request: InboundRequest) -> list[InboundMessage]: ...

    async def send(self, message: OutboundMessage) -> DeliveryResult: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
