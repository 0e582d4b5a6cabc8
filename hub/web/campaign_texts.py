"""Every text the marketer pages and the campaign API show that the engine does not
(hub/campaigns/texts.py has the engine's): notices, labels, confirmations, schedule problems."""

from __future__ import annotations

MARKETERS_ONLY = "open campaigns (they are for marketers and admins)"

SCHEDULE_MALFORMED = (
    "must be a date and time such as 2026-12-24T09:00:00+01:00 (ISO 8601 with its offset)"
)
SCHEDULE_NO_OFFSET = "needs a timezone offset, such as +01:00 or Z"
CHANNEL_UNKNOWN = "must be one of email, telegram, slack, web"
CUSTOMER_UNKNOWN = "customer {id} does not exist"
CONFIRM_MISSING = "confirm the send first"

# Notices after a form (?notice=…)
NOTICES = {
    "created": "Campaign created. Write the message, then preview and test it.",
    "saved": "Draft saved.",
    "test": "Test sent to your address.",
    "test_failed": "The test could not be sent.",
    "sending": "Sending started.",
    "scheduled": "Campaign scheduled.",
    "paused": "Sending paused: nothing more goes out until you resume.",
    "resumed": "Sending resumed.",
    "cancelled": "Campaign cancelled: queued recipients will not get it.",
    "retried": "Recipients queued again.",
    "nothing": "There was nobody to retry.",
}

STATE_LABELS = {
    "draft": "Draft",
    "scheduled": "Scheduled",
    "sending": "Sending",
    "paused": "Paused",
    "cancelled": "Cancelled",
    "finished": "Finished",
}

# Per recipient, as the progress shows it
RECIPIENT_LABELS = {
    "pending": "queued",
    "sending": "sending",
    "sent": "sent",
    "failed": "failed",
    "skipped": "skipped",
    "unconfirmed": "unconfirmed",
    "cancelled": "cancelled",
}

CONFIRM_SEND = "Send “{name}” to {count}?"
CONFIRM_SCHEDULE = "Send “{name}” to {count} on {when}?"
CONFIRM_NOTE = (
    "{count} in the segment “{segment}” now; those without consent on any "
    "channel, opted out, suppressed or over the frequency cap are skipped with the reason."
)
WHY_FINISHED = {
    "finished": "Finished {when}: every recipient is accounted for.",
    "cancelled": "Cancelled {when}: queued recipients were not sent to.",
}
NOT_SENT_YET = "Not sent yet."
PREVIEW_SAMPLE = "A sample customer"
NO_SEGMENTS = "No saved segments yet."


def count(number: int) -> str:
    """12345 → "12,345"."""
    return f"{number:,}"


def people(number: int) -> str:
    """12345 → "12,345 people"; 1 → "1 person"."""
    return "1 person" if number == 1 else f"{number:,} people"
