"""What the segment editor offers a marketer: every field of the customer filter language with a
plain label, its operators in words and the kind of value it takes (the editor's script builds
its rows from this; docs/segments.md says the same for people who write JSON)."""

from __future__ import annotations

from typing import Any

TEXT_OPS = {"eq": "is", "ne": "is not", "in": "is one of", "contains": "contains"}
COMPARE = {"eq": "=", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
CHANNELS = [
    ["email", "Email"],
    ["telegram", "Telegram"],
    ["slack", "Slack"],
    ["web", "Web chat widget"],
]
WHEN = "30 days ago: -30d · 2 weeks: -2w · or a date: 2026-01-31"


def catalog(tiers: tuple[str, ...], segments: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """The editor's fields, in the order of its field menu."""
    return [
        {"field": "tag", "label": "Tag", "ops": {"has": "has", "has_not": "does not have"},
         "value": "text", "hint": "vip"},
        {"field": "tier", "label": "Tier", "ops": TEXT_OPS, "value": "choice",
         "choices": [[t, t] for t in tiers]},
        {"field": "consent", "label": "Consent on", "ops": {"has": "given", "has_not": "not given"},
         "value": "choice", "choices": [["any", "Any channel"], *CHANNELS]},
        {"field": "identity", "label": "Has an address on",
         "ops": {"has": "yes", "has_not": "no"}, "value": "choice", "choices": CHANNELS},
        {"field": "last_contact", "label": "Last contact",
         "ops": {"after": "after", "before": "before", "is_null": "never"}, "value": "when",
         "hint": WHEN},
        {"field": "created", "label": "Customer since", "ops": {"after": "after",
         "before": "before"}, "value": "when", "hint": WHEN},
        {"field": "company", "label": "Company", "ops": TEXT_OPS, "value": "text"},
        {"field": "locale", "label": "Language (locale)", "ops": TEXT_OPS, "value": "text",
         "hint": "en"},
        {"field": "timezone", "label": "Time zone", "ops": TEXT_OPS, "value": "text",
         "hint": "Europe/Paris"},
        {"field": "name", "label": "Name", "ops": TEXT_OPS, "value": "text"},
        {"field": "preferred_channel", "label": "Preferred channel", "ops": TEXT_OPS,
         "value": "text"},
        {"field": "attribute", "label": "Custom attribute",
         "ops": {**COMPARE, "ne": "≠", "contains": "contains", "exists": "is set"},
         "value": "attribute", "hint": "plan"},
        {"field": "open_tickets", "label": "Open tickets", "ops": COMPARE, "value": "number"},
        {"field": "tickets_in_days", "label": "Tickets in the last days", "ops": COMPARE,
         "value": "count_days"},
        {"field": "conversations_in_days", "label": "Conversations in the last days",
         "ops": COMPARE, "value": "count_days"},
        {"field": "contact_trend", "label": "Contact falling over days",
         "ops": {"falling": "falling"}, "value": "days"},
        {"field": "csat_given", "label": "Gave a satisfaction rating", "ops": {"eq": "is"},
         "value": "bool"},
        {"field": "campaign_received", "label": "Received campaign (id)", "ops": {"eq": "is"},
         "value": "number"},
        {"field": "campaign_replied", "label": "Replied to campaign (id)", "ops": {"eq": "is"},
         "value": "number"},
        {"field": "segment", "label": "Imported into segment", "ops": {"in": "is one of"},
         "value": "segments", "choices": [[str(i), n] for i, n in segments]},
    ]  # fmt: skip
