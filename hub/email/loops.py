"""Mail-loop protection for our automatic replies. Inbound mail that is itself automated
(Auto-Submitted, Precedence bulk/list/junk, List-Id, mailer-daemon and no-reply senders) is
flagged by the parser and never acknowledged; on top of that, no address gets more than the
sending channel's ``max_auto_replies_per_hour`` automatic replies in an hour.

An address is one identity (identities are unique by kind and address), so the count is a range
of the ``(identity_id, created_at)`` index; for a customer created in this transaction (a new
conversation's acknowledgement) every automatic reply to it was queued in this transaction,
which counts them (``transaction_memo``), and the count asks the database nothing. The known
customers a batch opens conversations for together are counted in one read
(``read_replies_before``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.email.adapter import EmailChannelConfig
from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.transaction_memo import (
    automatic_replies,
    is_new_customer,
    note_replies_before,
    replies_before,
)
from hub.db.models import Conversation, Direction, Message
from hub.outbound.compose import recipient_for

WINDOW = timedelta(hours=1)


# Automatic replies per identity in the window, for one identity or several at once.
_SENT = (
    select(Message.identity_id, func.count())
    .where(
        Message.identity_id.in_(bindparam("identities", expanding=True)),
        Message.created_at >= bindparam("since"),
        Message.direction == Direction.OUTBOUND,
        Message.automated.is_(True),
    )
    .group_by(Message.identity_id)
)


async def _window_counts(
    session: AsyncSession, identity_ids: Iterable[int], since: datetime
) -> dict[int | None, int]:
    """Automatic replies each identity got since ``since``, read without a flush."""
    with session.no_autoflush:
        found = await session.execute(_SENT, {"identities": sorted(identity_ids), "since": since})
    return {identity: count for identity, count in found}


async def read_replies_before(
    session: AsyncSession, identity_ids: Sequence[int], now: datetime
) -> None:
    """For a batch's known senders, right after it wrote its new conversations (so every
    automatic reply the transaction queued so far is in the table): the window's count for
    each in one read, less the ones this transaction queued. ``auto_reply_allowed`` adds the
    ones it queues. One sender alone is asked for when its reply is due, as before."""
    if len(identity_ids) < 2:
        return
    senders = set(identity_ids)
    counts = await _window_counts(session, senders, now - WINDOW)
    note_replies_before(
        session, {i: counts.get(i, 0) - automatic_replies(session, i) for i in senders}
    )


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
    before = replies_before(session, recipient.id)
    if is_new_customer(session, recipient.customer_id):
        # Every automatic reply it got was queued in this transaction, and counted there
        # (walking the session's rows instead cost a whole batch's rows per message).
        sent = automatic_replies(session, recipient.id)
    elif before is not None:  # read with the batch's other known senders
        sent = before + automatic_replies(session, recipient.id)
    else:
        # Without a flush: the conversation being acknowledged was written by a flush (its
        # own, or the batch's waiting ones'), which wrote every reply queued before it, so
        # nothing pending could be counted; the flush this query made was one more per
        # returning customer's new conversation.
        sent = (await _window_counts(session, [recipient.id], since)).get(recipient.id, 0)
    if sent < config.max_auto_replies_per_hour:
        return True
    await log_event(
        session,
        conversation,
        f"Automatic reply not sent: {recipient.address} already got "
        f"{config.max_auto_replies_per_hour} in the last hour (mail loop protection)",
        now,
    )
    return False
