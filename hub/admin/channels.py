"""Channels as the admin console shows them: each configured channel with its status (last
message in, last delivery, last error), where the provider must send to (the webhook URL to
paste, the form or widget address, the SMTP listener), its secrets as set or not (never their
value), and a test message to an address or chat the admin gives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel, DeliveryResult, OutboundMessage, Party
from channels.config import ChannelConfig
from hub.admin.settings_store import secret_fields, secret_value
from hub.config.settings import Settings
from hub.db.models import DeliveryState, Direction, Message

TEST_SUBJECT = "Test message from {instance}"
TEST_TEXT = (
    "This is a test message from {instance}, sent from the admin console to check the "
    "{channel} channel. No reply is needed."
)


@dataclass(frozen=True, slots=True)
class Secret:
    field: str
    is_set: bool


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    name: str
    kind: str
    title: str
    last_in: datetime | None
    last_delivery: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    endpoint: str  # what to paste into the provider, or where customers reach the channel
    secrets: tuple[Secret, ...]


def endpoint(public_url: str, name: str, config: ChannelConfig) -> str:
    base = public_url.rstrip("/")
    kind = config.kind
    if kind == "telegram":
        return f"{base}/webhooks/telegram/{name}"
    if kind == "slack":
        return f"{base}/webhooks/slack/{name}"
    if kind == "api":
        return f"{base}/api/v1/inbound/{name}"
    if kind == "form":
        return f"{base}/forms/{name}"
    if kind == "widget":
        return f"{base}/widget/{name}/embed.js"
    if kind == "email":
        listener = str(getattr(config, "inbound_smtp", "") or "")
        return f"SMTP {listener}" if listener else "(outgoing mail only, or IMAP)"
    return ""


async def _latest(session: AsyncSession, name: str, *where: object) -> Message | None:
    return await session.scalar(
        select(Message)
        .where(Message.channel == name, *where)  # type: ignore[arg-type]
        .order_by(Message.id.desc())
        .limit(1)
    )


async def statuses(session: AsyncSession, settings: Settings) -> list[ChannelStatus]:
    found: list[ChannelStatus] = []
    for name, config in sorted(settings.channels.items()):
        last_in = await _latest(session, name, Message.direction == Direction.INBOUND)
        sent = await _latest(session, name, Message.delivery_state == DeliveryState.SENT)
        failed = await _latest(session, name, Message.delivery_state == DeliveryState.FAILED)
        found.append(
            ChannelStatus(
                name=name,
                kind=config.kind,
                title=config.title or name,
                last_in=last_in.created_at if last_in else None,
                last_delivery=sent.created_at if sent else None,
                last_error=failed.delivery_error if failed else None,
                last_error_at=failed.created_at if failed else None,
                endpoint=endpoint(settings.web.public_url, name, config),
                secrets=tuple(
                    Secret(field, bool(secret_value(config, field)))
                    for field in secret_fields(config)
                ),
            )
        )
    return found


async def send_test(
    channel: Channel, name: str, config: ChannelConfig, address: str, instance: str, now: datetime
) -> DeliveryResult:
    """Send a test message to ``address`` (an email address, chat id, ...) through the channel
    itself, outside any conversation; the provider's answer is the result."""
    message = OutboundMessage(
        message_id=-int(now.timestamp() * 1000),  # never a stored message's id
        channel=name,
        recipient=Party(config.recipient_kind(), address.strip()),
        text=TEST_TEXT.format(instance=instance, channel=config.title or name),
        subject=TEST_SUBJECT.format(instance=instance),
        automated=True,
    )
    try:
        return await channel.send(message)
    except Exception as exc:  # a provider library can raise anything; the admin sees it
        return DeliveryResult(ok=False, error=f"{type(exc).__name__}: {exc}")
