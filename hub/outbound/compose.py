"""Composing outbound messages: pick the sending channel and recipient, set threading headers,
and write the message and its outbox row in the caller's transaction."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.transaction_memo import is_new_customer, note_automatic_reply
from hub.db.models import (
    Conversation,
    DeliveryState,
    Direction,
    Identity,
    Message,
    OutboxItem,
)

MAX_REFERENCES = 20


def reply_route(settings: Settings, channel: str) -> str:
    """The channel instance that carries replies for conversations on ``channel``."""
    config = settings.channels.get(channel)
    if config is None:
        return channel
    return config.reply_via or channel


def reply_problem(settings: Settings, channel: str) -> str | None:
    """Why replies on a conversation of ``channel`` cannot be delivered through its reply
    route, said before the agent writes (None when they can)."""
    via = reply_route(settings, channel)
    config = settings.channels.get(via)
    problem = "is not configured" if config is None else config.delivery_problem()
    if problem is None:
        return None
    return (
        f"Replies to this conversation cannot be delivered: channel {via} {problem} "
        f"(set it in [channels.{via}]). Answer through another address of the customer."
    )


async def recipient_for(
    session: AsyncSession, settings: Settings, conversation: Conversation, via: str
) -> Identity | None:
    """The conversation's own identity if the sending channel can reach it, else the
    customer's most recent identity of the kind that channel sends to (for a customer created
    in this transaction, looked for among its identities in the session first)."""
    config = settings.channels.get(via)
    if config is None:
        return None
    kind = config.recipient_kind().value
    if conversation.identity_id is not None:
        own = await session.get(Identity, conversation.identity_id)
        if own is not None and own.kind == kind and own.customer_id == conversation.customer_id:
            return own
    if is_new_customer(session, conversation.customer_id):
        held = [
            row
            for row in session.sync_session
            if isinstance(row, Identity)
            and row.customer_id == conversation.customer_id
            and row.kind == kind
            and not row.bouncing
        ]
        if held and all(row.id is not None for row in held):
            return max(held, key=lambda row: row.id)
    return await session.scalar(
        select(Identity)
        .where(
            Identity.customer_id == conversation.customer_id,
            Identity.kind == kind,
            Identity.bouncing.is_(False),
        )
        .order_by(Identity.id.desc())
        .limit(1)
    )


async def _email_thread(session: AsyncSession, conversation_id: int) -> list[str]:
    rows = await session.scalars(
        select(Message.external_id)
        .where(
            Message.conversation_id == conversation_id,
            Message.external_id.startswith("<"),
        )
        .order_by(Message.id.desc())
        .limit(MAX_REFERENCES)
    )
    return [value for value in reversed(list(rows)) if value]


async def queue_outbound(
    session: AsyncSession,
    settings: Settings,
    conversation: Conversation,
    *,
    via: str,
    text: str,
    subject: str,
    html: str | None,
    now: datetime,
    author_agent_id: int | None = None,
    automated: bool = False,
    extra_raw: Mapping[str, object] | None = None,
    thread: Sequence[str] | None = None,
    flush: bool = True,
) -> Message | None:
    """Write an outbound message and its outbox row; None when the customer has no address
    this channel can reach (the caller records why). ``extra_raw`` is stored with the message
    (in the same INSERT). ``thread``: the conversation's mail ids, oldest first, when the
    caller has them all (else they are read). ``flush=False``: both rows go in with the
    caller's next flush, and the message has no id until then."""
    recipient = await recipient_for(session, settings, conversation, via)
    if recipient is None:
        return None
    config = settings.channels[via]
    external_id = None
    raw: dict[str, object] = {"to": recipient.address, "thread_key": conversation.thread_key}
    if config.kind == "email":
        external_id = f"<rd.{conversation.token}.{secrets.token_hex(6)}@{settings.mail_domain}>"
        references = (
            list(thread[-MAX_REFERENCES:])
            if thread is not None
            else await _email_thread(session, conversation.id)
        )
        raw["references"] = references
        raw["in_reply_to"] = references[-1] if references else None
    raw.update(extra_raw or {})
    message = Message(
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        direction=Direction.OUTBOUND,
        channel=via,
        external_id=external_id,
        identity_id=recipient.id,
        author_agent_id=author_agent_id,
        subject=subject[:500],
        text=text,
        html=html,
        attachments=[],
        raw=raw,
        automated=automated,
        delivery_state=DeliveryState.QUEUED,
        created_at=now,
    )
    session.add(message)
    session.add(OutboxItem(message=message, channel=via, next_attempt_at=now, created_at=now))
    if flush:
        await session.flush()
    if automated:
        note_automatic_reply(session, recipient.id)
    return message
