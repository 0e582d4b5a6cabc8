"""Customer messages as an adapter hands them to the hub, for tests that ingest directly."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from channels.base import IdentityKind, InboundMessage, Party


def inbound(
    external_id: str,
    *,
    channel: str = "api",
    address: str = "jane.cooper@example.com",
    name: str | None = "Jane Cooper",
    text: str = "Hello, I need help.",
    subject: str | None = None,
    thread_key: str | None = None,
    kind: IdentityKind = IdentityKind.EMAIL,
    raw: Mapping[str, Any] | None = None,
    automated: bool = False,
) -> InboundMessage:
    return InboundMessage(
        channel=channel,
        external_id=external_id,
        sender=Party(kind, address, name),
        text=text,
        subject=subject,
        thread_key=thread_key,
        received_at=datetime.now(UTC),
        raw=raw if raw is not None else {"external_id": external_id},
        automated=automated,
    )
