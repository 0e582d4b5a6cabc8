"""Settings of outgoing webhooks (subscriptions themselves are kept in the database)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WebhookSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # How long a subscriber has to answer one delivery.
    timeout_ms: int = Field(default=10_000, ge=100, le=60_000)
    # Attempts per delivery before it is given up (the admin can still redeliver it).
    max_attempts: int = Field(default=8, ge=1, le=20)
    # Exponential backoff between attempts: base, doubling, capped (with jitter).
    retry_base_seconds: float = Field(default=30.0, gt=0, le=3600)
    retry_max_seconds: float = Field(default=3600.0, gt=0, le=86_400)
    # A subscription is disabled after this many failed attempts in a row spanning at least
    # ``disable_after_hours`` (both must hold), and every admin is told.
    disable_after_failures: int = Field(default=20, ge=1, le=10_000)
    disable_after_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    # How often the sender looks for new events and due deliveries (other processes' changes).
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # An event id missing below newer ones may belong to a transaction still committing
    # (PostgreSQL hands out ids before commit): it is waited for this long.
    gap_seconds: float = Field(default=120.0, ge=1, le=3600)
    # Delivery logs (with the bodies sent) are kept this long.
    retention_days: int = Field(default=30, ge=1, le=365)
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)
    batch_size: int = Field(default=50, ge=1, le=1000)
    concurrency: int = Field(default=4, ge=1, le=64)
