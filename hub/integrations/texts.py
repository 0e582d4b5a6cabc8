"""What admins read about webhooks: refusals, notices and the page's confirmations."""

from __future__ import annotations

from hub.core.errors import ApiError

NOTICES = {
    "webhook_created": "Subscription created. Copy the signing secret now: it is not shown again.",
    "webhook_saved": "Subscription saved.",
    "webhook_enabled": "Subscription enabled: events from now on are delivered.",
    "webhook_disabled": "Subscription disabled: no new events are delivered.",
    "webhook_redelivered": "Delivery queued again.",
    "webhook_tested": "Test event queued.",
    "webhook_deleted": (
        "Subscription deleted: nothing more is sent to it, and its delivery log was removed."
    ),
}
TEST_MESSAGE = "This is a test event from Relaydesk."
MANUAL_REASON = "disabled by an admin"


def bad_field(field: str, problem: str) -> ApiError:
    return ApiError(422, "invalid_field", f"{field}: {problem}", {field: problem})


def unknown_event(name: str) -> ApiError:
    return bad_field("events", f"unknown event {name[:40]!r} (see docs/webhooks.md)")


def not_enabled() -> ApiError:
    return ApiError(
        409, "subscription_disabled", "the subscription is disabled: enable it to redeliver"
    )


def auto_disabled(failures: int, hours: float) -> str:
    return f"{failures} failed deliveries in a row over {hours:g} hours"


def disabled_notice(name: str, url: str, reason: str) -> str:
    return (
        f"Webhook subscription {name} ({url}) was disabled: {reason}. Fix the receiver, then "
        "enable it again on Admin > Webhooks and redeliver what failed."
    )
