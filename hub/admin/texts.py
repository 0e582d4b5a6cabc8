"""What the admin console's settings, channels, routing, SLA and template pages say to people."""

from __future__ import annotations

ADMINS_ONLY = "use the admin console"
SOURCE_LABELS = {
    "default": "Default",
    "file": "Config file",
    "environment": "Environment",
    "database": "Admin console",
}
UNKNOWN_SETTING = "is not a setting the admin console can change"
NOT_A_URL = "must be an http:// or https:// address"
NOT_EMPTY = "must not be empty"
SAVED = "Saved. Every hub process applies it within a few seconds."
RESET = "Back to the value from the config file."
NO_CONDITION = (
    "has no condition, so it would catch every message; give channels, keywords or another "
    "condition (messages no rule takes go to routing.default_team)"
)
UNKNOWN_TEAM = "no team named {team!r} (create it on the Teams page first)"
UNKNOWN_CHANNEL = "no channel named {name!r} is configured"
NO_SUCH_RULE = "no rule named {name!r}"
NO_SUCH_MESSAGE = "no message with id {ident}"
GIVE_MESSAGE = "give a text, or the id of a past message"
SECRET_MASK = "••••••••"
SECRET_REPLACED = "•••••••• (replaced)"
NOT_A_SECRET = "is not a secret of channel {channel!r}"
TEST_SENT = "Test message sent."
