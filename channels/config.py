"""Configuration shared by every channel instance; each kind extends it with its own fields."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from channels.base import IdentityKind


class ChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    title: str = ""
    # Channel instance that carries replies when this one cannot send (a web form replies by email).
    reply_via: str | None = None
    # Channel instance that carries the acknowledgement; defaults to the reply route.
    ack_via: str | None = None
    # Follow-up template for the acknowledgement of a new conversation; empty for none.
    ack_template: str = "ack"

    def recipient_kind(self) -> IdentityKind:
        """The kind of customer address this channel sends to."""
        return IdentityKind.EMAIL

    def delivery_problem(self) -> str | None:
        """Why this channel cannot deliver anything as configured ("has no …"), else None."""
        return None

    def outgoing_urls(self) -> Mapping[str, str]:
        """The URLs this channel makes requests to, by setting (the hub checks them against
        its ``[outgoing]`` policy at start-up)."""
        return {}
