"""The memory channel: a real ``Channel`` with no provider behind it. It keeps every message the
hub asks it to send and makes the messages a customer writes, so a story about routing or
follow-ups runs the whole hub without an SMTP server or a callback endpoint (in the manner of
errbot's test backend). Tests and local experiments use it; it never leaves the process."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

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


class MemoryChannelConfig(ChannelConfig):
    identity_kind: IdentityKind = IdentityKind.EMAIL

    def recipient_kind(self) -> IdentityKind:
        return self.identity_kind


class MemoryChannel:
    def __init__(self, name: str, config: MemoryChannelConfig | None = None) -> None:
        self.name = name
        self.config = config or MemoryChannelConfig(kind="memory")
        self.sent: list[OutboundMessage] = []
        self._arrived = asyncio.Event()

    def message(
        self,
        text: str,
        *,
        sender: str = "jane@example.com",
        name: str | None = "Jane Cooper",
        subject: str | None = None,
        thread_key: str | None = None,
        external_id: str | None = None,
    ) -> InboundMessage:
        """What the customer ``sender`` writes, as this channel hands it to the hub."""
        return InboundMessage(
            channel=self.name,
            external_id=external_id or uuid.uuid4().hex,
            sender=Party(self.config.identity_kind, sender, name),
            text=text,
            subject=subject,
            thread_key=thread_key,
            received_at=datetime.now(UTC),
        )

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        """A JSON delivery ``{"text", "from", "subject"?, "thread_key"?, "external_id"?}``."""
        try:
            payload = strict_json.loads(request.body)
        except strict_json.JsonRefused as exc:
            raise ChannelRejected(400, "invalid_json", f"body is not valid JSON: {exc}") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
            raise ChannelRejected(400, "invalid_json", "body must be an object with a text")
        return [
            self.message(
                payload["text"],
                sender=str(payload.get("from", "jane@example.com")),
                subject=payload.get("subject"),
                thread_key=payload.get("thread_key"),
                external_id=payload.get("external_id"),
            )
        ]

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        self.sent.append(message)
        self._arrived.set()
        return DeliveryResult.sent(f"memory-{message.message_id}")

    def pop_sent(self) -> OutboundMessage:
        """The oldest message not taken yet."""
        return self.sent.pop(0)

    async def wait_for(self, count: int) -> list[OutboundMessage]:
        """Every message sent so far, once there are at least ``count`` (the outbox sends in
        the background); the caller bounds the wait."""
        while len(self.sent) < count:
            self._arrived.clear()
            await self._arrived.wait()
        return self.sent

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
