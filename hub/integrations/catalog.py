"""The events integrators can subscribe to, and which rows of the event log raise them.

The event log (hub/platform/events.py) is written by every writer in the transaction of its
change; a log row raises zero or more webhook events. ``message.created`` is keyed by the
message (a reply may be logged twice: by the writer and by the page that shows it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

VERSION = 1
PING = "ping"
EVENTS: dict[str, str] = {
    "conversation.created": "a conversation was opened (inbound message, split, opt-out)",
    "conversation.updated": "status, assignee, priority, team or tags changed",
    "conversation.status_changed": "the status changed (open, pending, snoozed, resolved)",
    "conversation.assigned": "the assignee changed (including unassigned)",
    "conversation.handoff": "a bot handed the conversation to people, or got it back",
    "message.created": "a message was received or queued to the customer",
    "ticket.updated": "a ticket's status or priority changed",
    "csat.received": "a customer rated the conversation (1-5)",
}


@dataclass(frozen=True, slots=True)
class Raised:
    """One webhook event a log row raises; ``key`` makes its id (the same for one change)."""

    event: str
    key: str
    changed: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.event}:{self.key}"


def raised_by(event_id: int, kind: str, payload: Mapping[str, Any]) -> list[Raised]:
    """The webhook events of one event log row."""
    key = f"e{event_id}"
    if kind == "conversation_created":
        return [Raised("conversation.created", key)]
    if kind in ("message", "automated_message") and payload.get("message_id"):
        return [Raised("message.created", f"m{int(payload['message_id'])}")]
    if kind == "ticket_updated":
        return [Raised("ticket.updated", key, tuple(payload.get("changed") or ()))]
    if kind == "csat":
        return [Raised("csat.received", key)]
    if kind == "bot_handoff":
        return [Raised("conversation.handoff", key)]
    if kind in ("team", "tags"):
        return [Raised("conversation.updated", key, (kind,))]
    if kind != "activity":
        return []
    if "status" in payload:
        return [
            Raised("conversation.status_changed", key),
            Raised("conversation.updated", key, ("status",)),
        ]
    if "assigned_to" in payload:
        return [
            Raised("conversation.assigned", key),
            Raised("conversation.updated", key, ("assignee",)),
        ]
    if "priority" in payload:
        return [Raised("conversation.updated", key, ("priority",))]
    return []
