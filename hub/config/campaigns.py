"""Campaign settings: throttles per channel kind, opt-out words, caps and quiet hours."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Throttle(_Model):
    """How fast one channel kind may be sent to. ``per_second`` over the whole channel;
    ``per_recipient_seconds`` between two messages to one chat (Telegram: 1 s);
    ``concurrency``: sends in flight at once (SMTP: connections)."""

    per_second: float = Field(gt=0, le=10_000)
    per_recipient_seconds: float = Field(0.0, ge=0)
    concurrency: int = Field(4, ge=1, le=256)


def _default_throttles() -> dict[str, Throttle]:
    # Telegram: 30 messages/s overall and 1/s per chat; Slack: about 1/s per channel.
    return {
        "email": Throttle(per_second=1000, concurrency=8),
        "telegram": Throttle(per_second=30, per_recipient_seconds=1.0, concurrency=8),
        "slack": Throttle(per_second=1, per_recipient_seconds=1.0, concurrency=1),
        "widget": Throttle(per_second=200, concurrency=8),
        "api": Throttle(per_second=200, concurrency=8),
        "memory": Throttle(per_second=10_000, concurrency=8),
    }


class CampaignSettings(_Model):
    # the order channels are tried in when a campaign does not set its own
    fallback: tuple[str, ...] = ("email", "telegram", "slack", "web")
    throttles: dict[str, Throttle] = Field(default_factory=_default_throttles)
    # replies on chat channels that opt the customer out there (case-insensitive, whole reply)
    stop_words: tuple[str, ...] = ("stop", "unsubscribe", "stopall", "cancel", "end", "quit")
    # a chat message from a recipient within this window after a campaign counts as a reply
    reply_window_hours: int = Field(72, ge=1)
    # at most ``cap_messages`` campaign messages per customer in ``cap_days`` days (0: no cap)
    cap_messages: int = Field(3, ge=0)
    cap_days: int = Field(7, ge=1)
    # no campaign message between these local hours in the recipient's timezone, when known
    quiet_hours: bool = True
    quiet_start_hour: int = Field(21, ge=0, le=23)
    quiet_end_hour: int = Field(8, ge=0, le=23)
    # soft bounces in a row that suppress an address (a hard bounce suppresses at once)
    soft_bounce_limit: int = Field(3, ge=1)
    # unsubscribe links stay valid this long (RFC 8058 links are clicked months later)
    token_days: int = Field(400, ge=1)
    # the mailto: of List-Unsubscribe (default: unsubscribe@<mail_domain>)
    unsubscribe_address: str | None = None
    poll_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(200, ge=1, le=5000)
    lease_seconds: float = Field(60.0, gt=0)
