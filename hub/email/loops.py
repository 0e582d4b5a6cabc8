"""Mail-loop protection for our automatic replies. Inbound mail that is itself automated
(Auto-Submitted, Precedence bulk/list/junk, List-Id, mailer-daemon and no-reply senders) is
flagged by the parser and never acknowledged; on top of that, no address gets more than the
sending channel's ``max_auto_replies_per_hour`` automatic replies in an hour."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.email.adapter import EmailChannelConfig
from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.db.models import Conversation, Direction, Identity, Message
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
    same_address = select(Identity.id).where(
        Identity.kind == recipient.kind, Identity.address == recipient.address
    )
    sent = await session.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.automated.is_(True),
            Message.identity_id.in_(same_address),
            Message.created_at >= now - WINDOW,
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
