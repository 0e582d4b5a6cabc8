"""Settings of one Telegram bot channel (``kind = "telegram"``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field

from channels.base import IdentityKind
from channels.config import ChannelConfig

MEGABYTE = 1024 * 1024


class TelegramChannelConfig(ChannelConfig):
    # No acknowledgement unless a template is named: the stock "ack" one is worded for email.
    ack_template: str = ""
    bot_token: str = Field(min_length=1, description="the token @BotFather gave")
    # "webhook": Telegram POSTs to /webhooks/telegram/NAME; "polling": the hub calls getUpdates.
    mode: Literal["webhook", "polling"] = "webhook"
    # Leave empty to use the one `relaydesk telegram set-webhook` generates and stores.
    webhook_secret: str = Field("", max_length=256, pattern=r"^[A-Za-z0-9_-]*$")
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    timeout_seconds: float = Field(10.0, gt=0)
    poll_timeout_seconds: int = Field(25, ge=0, le=50)
    poll_retry_seconds: float = Field(5.0, gt=0)
    # Telegram's limits: about one message a second per chat, 20 a minute per group, 30/s per bot.
    chat_interval_seconds: float = Field(1.0, ge=0)
    group_interval_seconds: float = Field(3.0, ge=0)
    messages_per_second: float = Field(30.0, gt=0)
    # Longest a send waits for its chat's slot; beyond that it goes back to the outbox.
    max_pacing_wait_seconds: float = Field(1.5, ge=0)
    # Files larger than this are named in the text and listed, but not fetched or kept (the
    # hub keeps at most attachments.max_bytes; the smaller limit applies).
    max_attachment_bytes: int = Field(20 * MEGABYTE, ge=1)
    connection_pool_size: int = Field(16, ge=1)
    # After a press, the quick replies leave the message (links stay): no second press.
    remove_keyboard_after_press: bool = True

    def recipient_kind(self) -> IdentityKind:
        return IdentityKind.TELEGRAM

    def outgoing_urls(self) -> Mapping[str, str]:
        return {"base_url": self.base_url, "base_file_url": self.base_file_url}
