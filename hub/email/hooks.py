"""What the email area adds to the one ingest path: a mail is threaded by its headers, stored
once across mailboxes, kept whole next to its message, and automatic replies to its sender are
rate-limited against mail loops. Registered with the pipeline when the hub is built."""

from __future__ import annotations

from channels.base import InboundMessage
from hub.email.loops import auto_reply_allowed
from hub.email.store import details_of, record_email, same_mail_elsewhere
from hub.email.threading import email_conversation
from hub.inbound.hooks import ChannelHooks


def is_mail(inbound: InboundMessage) -> bool:
    """A received mail: its own threading and records, never the batch's bulk path."""
    return details_of(inbound) is not None


EMAIL_INGEST = ChannelHooks(
    claims=is_mail,
    find_stored=same_mail_elsewhere,
    find_conversation=email_conversation,
    record=record_email,
    auto_reply_allowed=auto_reply_allowed,
)
