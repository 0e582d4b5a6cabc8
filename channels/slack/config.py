"""Settings of one Slack app channel (``kind = "slack"``)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field

from channels.base import IdentityKind
from channels.config import ChannelConfig

MEGABYTE = 1024 * 1024


class SlackChannelConfig(ChannelConfig):
    # No acknowledgement unless a template is named: the stock "ack" one is worded for email.
    ack_template: str = ""
    bot_token: str = Field(min_length=1, description="the app's xoxb- bot token")
    signing_secret: str = Field(min_length=1, description="Basic Information > Signing Secret")
    base_url: str = "https://slack.com/api/"
    timeout_seconds: float = Field(10.0, gt=0)
    # The bot's own user id (U...), if known: its messages are ignored like any bot's.
    bot_user_id: str = ""
    # chat.postMessage allows about one message a second per channel (short bursts pass).
    channel_interval_seconds: float = Field(1.0, ge=0)
    messages_per_second: float = Field(20.0, gt=0)
    # Longest a send waits for its channel's slot; beyond that it goes back to the outbox.
    max_pacing_wait_seconds: float = Field(1.5, ge=0)
    # Files larger than this are named in the text and listed, but not fetched or kept (the
    # hub keeps at most attachments.max_bytes; the smaller limit applies).
    max_attachment_bytes: int = Field(20 * MEGABYTE, ge=1)

    def recipient_kind(self) -> IdentityKind:
        return IdentityKind.SLACK

    def outgoing_urls(self) -> Mapping[str, str]:
        return {"base_url": self.base_url}
