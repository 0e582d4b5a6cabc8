"""The hub's side of the chat channels (Telegram, Slack): the generated Telegram webhook
secret (stored, registered with Telegram, handed to the adapter), the conversation thread a
reply belongs in, the start and stop of Telegram long polling, and where the fetching of files
customers send (hub/chat/files.py) fetches from. hub/assembly.py starts and stops them."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Channel
from channels.slack.adapter import SlackChannel
from channels.telegram.adapter import TelegramChannel, TelegramUnavailable
from channels.telegram.config import TelegramChannelConfig
from hub.chat.files import FileSource
from hub.chat.polling import TelegramPoller
from hub.config.settings import AttachmentSettings, Settings
from hub.db.chat_models import ChannelSecret
from hub.db.models import Conversation
from hub.inbound.ingest import Ingestor
from hub.platform.database import Database
from hub.platform.supervisor import Supervisor
from hub.platform.targets import Targets

log = logging.getLogger(__name__)
TELEGRAM_WEBHOOK = "telegram_webhook"


class WebhookSetupError(Exception):
    """``telegram set-webhook`` cannot go ahead; the message says why."""


async def stored_secret(session: AsyncSession, channel: str, purpose: str) -> str | None:
    row = await session.get(ChannelSecret, (channel, purpose))
    return row.value if row is not None else None


async def store_secret(
    session: AsyncSession, channel: str, purpose: str, value: str, now: datetime
) -> None:
    row = await session.get(ChannelSecret, (channel, purpose))
    if row is None:
        session.add(ChannelSecret(channel=channel, purpose=purpose, value=value, created_at=now))
    else:
        row.value = value
        row.created_at = now
    await session.flush()


def thread_lookup(db: Database) -> Callable[[int], Awaitable[str | None]]:
    """The thread key (Telegram chat, Slack channel and thread) of a conversation."""

    async def lookup(conversation_id: int) -> str | None:
        async with db.reader() as session:
            conversation = await session.get(Conversation, conversation_id)
            return conversation.thread_key if conversation is not None else None

    return lookup


async def refresh_webhook_secret(db: Database, name: str, channel: TelegramChannel) -> bool:
    """Take up the secret `set-webhook` stored (maybe after this process started). True when
    there is one, so a request refused with the old one is worth checking again."""
    async with db.reader() as session:
        secret = await stored_secret(session, name, TELEGRAM_WEBHOOK)
    channel.use_webhook_secret(secret)
    return secret is not None


async def register_webhook(
    session: AsyncSession,
    settings: Settings,
    name: str,
    url: str,
    now: datetime,
    *,
    drop_pending: bool = False,
) -> str:
    """Point the Telegram bot of channel ``name`` at ``url`` with a generated secret token
    (or the configured one), then store it in the caller's session for the caller to commit.
    Returns the path the hub serves the webhook at."""
    config = settings.channels.get(name)
    if not isinstance(config, TelegramChannelConfig):
        known = ", ".join(n for n, c in settings.channels.items() if c.kind == "telegram")
        raise WebhookSetupError(
            f"no Telegram channel named {name!r} is configured (Telegram channels: {known or '-'})"
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise WebhookSetupError(f"URL must be an absolute https:// address, not {url!r}")
    secret = config.webhook_secret or secrets.token_urlsafe(32)
    channel = TelegramChannel(name, config)
    channel.use_socket_factory(Targets.of(settings.outgoing).socket_for)  # as the hub connects
    await channel.start()
    try:
        # Telegram first, with no transaction open: a database lock held across a network
        # call would stall the running hub. Updates Telegram sends with the new secret before
        # it is stored are refused and retried by Telegram.
        await channel.set_webhook(url, secret, drop_pending=drop_pending)
    except TelegramUnavailable as exc:
        raise WebhookSetupError(f"Telegram did not accept the webhook: {exc}") from None
    finally:
        await channel.stop()
    await store_secret(session, name, TELEGRAM_WEBHOOK, secret, now)
    return f"/webhooks/telegram/{name}"


def file_sources(
    attachments: AttachmentSettings, channels: Mapping[str, Channel]
) -> dict[str, FileSource]:
    """The chat channels files are fetched from, each with its cap: the smaller of the hub's
    attachment limit and the channel's own."""
    return {
        name: FileSource(
            channel.fetch_file, min(attachments.max_bytes, channel.config.max_attachment_bytes)
        )
        for name, channel in channels.items()
        if isinstance(channel, TelegramChannel | SlackChannel)
    }


class ChatService:
    """Wires the chat adapters to the hub: the thread a reply belongs in, Telegram long
    polling, and the webhook secret `set-webhook` stored."""

    def __init__(
        self,
        db: Database,
        channels: Mapping[str, Channel],
        ingestor: Ingestor,
        supervisor: Supervisor,
    ) -> None:
        self.db = db
        self.channels = channels
        self.ingestor = ingestor
        self.supervisor = supervisor

    async def start(self, *, pollers: bool = True) -> None:
        """Thread lookups for the chat adapters and, with ``pollers``, Telegram long polling
        (one process of several polls: ``operations.listeners``)."""
        lookup = thread_lookup(self.db)
        for name, channel in self.channels.items():
            if isinstance(channel, TelegramChannel | SlackChannel):
                channel.use_thread_lookup(lookup)
            if not isinstance(channel, TelegramChannel):
                continue
            if channel.config.mode == "polling":
                if not pollers:
                    continue
                # the hub's supervisor runs (and stops) the poller
                await self.supervisor.add(TelegramPoller(channel, self.ingestor).worker)
            elif not channel.config.webhook_secret and not await refresh_webhook_secret(
                self.db, name, channel
            ):
                log.warning(
                    "telegram channel %s has no webhook secret yet: run "
                    "`relaydesk telegram set-webhook %s URL`; until then its webhook answers 401",
                    name,
                    name,
                )
