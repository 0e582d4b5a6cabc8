"""Mail-loop protection for our automatic replies. Inbound mail that is itself automated
(Auto-Submitted, Precedence bulk/list/junk, List-Id, mailer-daemon and no-reply senders) is
flagged by the parser and never acknowledged; on top of that, no address gets more than the
sending channel's ``max_auto_replies_per_hour`` automatic replies in an hour.

An address is one identity (identities are unique by kind and address), so the count is a range
of the ``(identity_id, created_at)`` index; for a customer created in this transaction (a new
conversation's acknowledgement) every automatic reply to it was queued in this transaction,
which counts them (``transaction_memo``), and the count asks the database nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.email.adapter import EmailChannelConfig
from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.transaction_memo import automatic_replies, is_new_customer
from hub.db.models import Conversation, Direction, Message
from hub.outbound.compose import recipient_for

WINDOW = timedelta(hours=1)


async def auto_reply_allowed(
    session: AsyncSession, settings: Settings, via: str, conversation: Conversation, now: datetime
) -> bool:
    """False (and an event on the conversation saying why) when the recipient already got the
    hourly maximum of automatic replies."""
    config = settings.channels.get(via)
    if not isinstance(config, EmailChannelConfig):
        return True
    recipient = await recipient_for(session, settings, conversation, via)
    if recipient is None:
        return True
    since = now - WINDOW
    if is_new_customer(session, recipient.customer_id):
        # Every automatic reply it got was queued in this transaction, and counted there
        # (walking the session's rows instead cost a whole batch's rows per message).
        sent: int | None = automatic_replies(session, recipient.id)
    else:
        # Without a flush: an automatic reply is flushed as soon as it is queued (its outbox
        # row needs its id), so nothing pending could be counted; the flush this query made
        # was one more per returning customer's new conversation.
        with session.no_autoflush:
            sent = await session.scalar(
                select(func.count())
                .select_from(Message)
                .where(
                    Message.identity_id == recipient.id,
                    Message.created_at >= since,
                    Message.direction == Direction.OUTBOUND,
                    Message.automated.is_(True),
                )
            )
    if (sent or 0) < config.max_auto_replies_per_hour:
        return True
    await log_event(
        session,
        conversation,
        f"Automatic reply not sent: {recipient.address} already got "
        f"{config.max_auto_replies_per_hour} in the last hour (mail loop protection)",
        now,
    )
    return False
