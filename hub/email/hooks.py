"""What the email area adds to the one ingest path: a mail is threaded by its headers, stored
once across mailboxes, kept whole next to its message, and automatic replies to its sender are
rate-limited against mail loops. Registered with the pipeline when the hub is built."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.config.settings import Settings
from hub.db.models import Conversation, Message
from hub.email.loops import auto_reply_allowed, read_replies_before
from hub.email.store import details_of, record_email, same_mail_elsewhere
from hub.email.threading import email_conversation, remember_stored
from hub.inbound.hooks import ChannelHooks


def is_mail(inbound: InboundMessage) -> bool:
    """A received mail: its own threading and records, never the batch's bulk path."""
    return details_of(inbound) is not None


async def record(
    session: AsyncSession,
    message: Message,
    inbound: InboundMessage,
    conversation: Conversation,
    now: datetime,
    settings: Settings,
) -> None:
    """Keep the mail next to its message; later mails of the batch may reply to it."""
    if details_of(inbound) is not None:
        remember_stored(session, message)
        await record_email(session, message, inbound, conversation, now, settings)


EMAIL_INGEST = ChannelHooks(
    claims=is_mail,
    find_stored=same_mail_elsewhere,
    find_conversation=email_conversation,
    record=record,
    auto_reply_allowed=auto_reply_allowed,
    before_acknowledging=read_replies_before,
)
