"""Keeping a received mail next to its message, in the ingest transaction: the raw bytes, the
full text with quoted history and signature, the original HTML, attachment contents (up to the
cap), participants. Called by the pipeline for every inbound message; others are left alone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import Attachment, InboundMessage
from channels.email.addresses import split_plus
from channels.email.parse import ParsedEmail
from hub.config.settings import Settings
from hub.db.email_models import EmailAttachment, EmailParticipant, EmailRecord
from hub.db.models import Conversation, Message
from hub.email.directory import email_channels

MAX_HEADERS = 200


def details_of(inbound: InboundMessage) -> ParsedEmail | None:
    details = inbound.raw.get("email") if inbound.raw else None
    return details if isinstance(details, ParsedEmail) else None


def raw_summary(details: ParsedEmail) -> dict[str, Any]:
    """What ``Message.raw`` keeps for a mail (JSON); the bytes go to ``email_messages``."""
    return {
        "email": {
            "message_id": details.message_id,
            "envelope_from": details.envelope_from,
            "envelope_to": list(details.envelope_to),
            "size": len(details.raw),
            "defects": list(details.defects),
        }
    }


def _recipients(details: ParsedEmail) -> dict[str, Any]:
    return {
        "to": [list(pair) for pair in details.to],
        "cc": [list(pair) for pair in details.cc],
        "reply_to": [list(pair) for pair in details.reply_to],
    }


def new_record(
    details: ParsedEmail,
    channel: str,
    sender: str,
    now: datetime,
    parse_error: str | None,
    message: Message | None,
) -> EmailRecord:
    return EmailRecord(
        message=message,
        channel=channel,
        header_id=details.message_id[:500],
        envelope_from=(details.envelope_from or None) and details.envelope_from[:500],
        envelope_to=list(details.envelope_to),
        from_address=sender[:320],
        recipients=_recipients(details),
        headers=[list(pair) for pair in details.headers[:MAX_HEADERS]],
        full_text=details.full_text,
        quoted_text=details.quoted,
        signature=details.signature,
        html_original=details.html,
        forwarded_from=(details.forwarded_from or "")[:500] or None,
        bounce=None,
        parse_error=parse_error,
        size=len(details.raw),
        raw=details.raw,
        created_at=now,
    )


def add_attachments(
    session: AsyncSession,
    record: EmailRecord,
    message: Message | None,
    attachments: tuple[Attachment, ...],
    details: ParsedEmail,
) -> None:
    listing = dict(details.tnef)
    for position, attachment in enumerate(attachments):
        contains = [{"filename": f.filename, "size": f.size} for f in listing.get(position, ())]
        session.add(
            EmailAttachment(
                email=record,
                message=message,
                position=position,
                filename=attachment.filename[:500],
                content_type=attachment.content_type[:200],
                size=attachment.size,
                content_id=(attachment.content_id or "")[:500] or None,
                inline=attachment.inline,
                stored=attachment.content is not None,
                contains=contains,
                content=attachment.content,
            )
        )


async def record_email(
    session: AsyncSession,
    message: Message,
    inbound: InboundMessage,
    conversation: Conversation,
    now: datetime,
    settings: Settings,
) -> None:
    """Ingest hook, right after the message is added to the session (before any flush)."""
    details = details_of(inbound)
    if details is None:
        return
    message.raw = raw_summary(details)  # before anything can flush the un-storable original
    for index, meta in enumerate(message.attachments or []):
        listing = dict(details.tnef).get(index)
        if listing:
            meta["contains"] = [{"filename": f.filename, "size": f.size} for f in listing]
    record = new_record(
        details, inbound.channel, inbound.sender.address, now, inbound.parse_error, message
    )
    session.add(record)
    add_attachments(session, record, message, inbound.attachments, details)
    own = {a for c in email_channels(settings.channels).values() for a in c.mailbox_addresses()}
    await _participants(session, conversation, inbound, details, now, frozenset(own))


async def _participants(
    session: AsyncSession,
    conversation: Conversation,
    inbound: InboundMessage,
    details: ParsedEmail,
    now: datetime,
    own: frozenset[str],
) -> None:
    wanted: dict[str, tuple[str, str]] = {}
    for role, pairs in (("cc", details.cc), ("to", details.to)):
        for name, address in pairs:
            if split_plus(address)[0] not in own:
                wanted.setdefault(address, (name, role))
    if not wanted:
        return
    wanted.setdefault(inbound.sender.address, (inbound.sender.name or "", "from"))
    known = set(
        (
            await session.scalars(
                select(EmailParticipant.address).where(
                    EmailParticipant.conversation_id == conversation.id,
                    EmailParticipant.address.in_(list(wanted)),
                )
            )
        ).all()
    )
    for address, (name, role) in wanted.items():
        if address not in known:
            session.add(
                EmailParticipant(
                    conversation_id=conversation.id,
                    address=address[:320],
                    name=name[:300],
                    role=role,
                    created_at=now,
                )
            )


async def same_mail_elsewhere(
    session: AsyncSession, inbound: InboundMessage
) -> tuple[int, int, int] | None:
    """The (message, conversation, customer) ids of the same Message-ID received through
    any mailbox; None for other channels or a first delivery."""
    if details_of(inbound) is None:
        return None
    row = (
        await session.execute(
            select(Message.id, Message.conversation_id, Message.customer_id)
            .join(EmailRecord, EmailRecord.message_id == Message.id)
            .where(EmailRecord.header_id == inbound.external_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])
