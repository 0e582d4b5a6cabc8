"""Delivery status notifications: mark the original outbound message failed, flag the
recipient's address as bouncing, keep the report on the original's conversation (without
reopening it or acknowledging anything). A report we cannot match is kept raw, on its own;
it never opens a conversation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind, InboundMessage
from channels.email.addresses import tokens_in_ids
from channels.email.dsn import DeliveryReport
from channels.email.parse import ParsedEmail
from hub.core.conversations import log_event
from hub.db.email_models import EmailRecord
from hub.db.models import (
    Conversation,
    DeliveryState,
    Direction,
    Identity,
    Message,
)
from hub.email.store import add_attachments, new_record, raw_summary

_ANY_ID = re.compile(rb"<[^<>\s]{3,400}@[^<>\s]{1,200}>")


@dataclass(frozen=True, slots=True)
class BounceOutcome:
    message_id: int | None
    conversation_id: int | None
    customer_id: int | None
    original_message_id: int | None
    duplicate: bool


def describe(report: DeliveryReport) -> str:
    failed = report.failed or report.recipients
    if not failed:
        return "a delivery failure was reported"
    parts = []
    for recipient in failed:
        reason = " ".join(p for p in (recipient.status, recipient.diagnostic) if p)
        parts.append(f"{recipient.address}" + (f" ({reason})" if reason else ""))
    via = f", reported by {report.reporting_mta}" if report.reporting_mta else ""
    return "Delivery failed to " + "; ".join(parts) + via


async def _original(
    session: AsyncSession, report: DeliveryReport, details: ParsedEmail
) -> Message | None:
    if report.original_message_ids:
        found = await session.scalar(
            select(Message)
            .where(
                Message.external_id.in_(report.original_message_ids),
                Message.direction == Direction.OUTBOUND,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        if found is not None:
            return found
    mentioned = [m.decode("ascii", "replace") for m in _ANY_ID.findall(details.raw)]
    tokens = tokens_in_ids(mentioned)
    if not tokens:
        return None
    conversation_ids = select(Conversation.id).where(Conversation.token.in_(tokens))
    failed = [r.address for r in report.failed] or [r.address for r in report.recipients]
    query = select(Message).where(
        Message.conversation_id.in_(conversation_ids), Message.direction == Direction.OUTBOUND
    )
    if failed:
        recipients = select(Identity.id).where(Identity.address.in_(failed))
        query = query.where(Message.identity_id.in_(recipients))
    return await session.scalar(query.order_by(Message.id.desc()).limit(1))


async def record_bounce(
    session: AsyncSession, inbound: InboundMessage, details: ParsedEmail, now: datetime
) -> BounceOutcome:
    report = details.report
    assert report is not None
    existing = await session.scalar(
        select(EmailRecord).where(EmailRecord.header_id == details.message_id)
    )
    if existing is not None:
        message = await session.get(Message, existing.message_id) if existing.message_id else None
        return BounceOutcome(
            existing.message_id,
            message.conversation_id if message else None,
            message.customer_id if message else None,
            None,
            duplicate=True,
        )
    summary = describe(report)
    permanent = [r.address for r in report.failed if r.permanent]
    if permanent:
        await session.execute(
            update(Identity)
            .where(Identity.kind == IdentityKind.EMAIL.value, Identity.address.in_(permanent))
            .values(bouncing=True)
            .execution_options(synchronize_session=False)
        )
    original = await _original(session, report, details)
    stored: Message | None = None
    conversation: Conversation | None = None
    if original is not None:
        if report.failed:
            original.delivery_state = DeliveryState.FAILED
            original.delivery_error = f"bounced: {summary}"[:2000]
        conversation = await session.get(Conversation, original.conversation_id)
    if conversation is not None:
        stored = Message(
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            direction=Direction.INBOUND,
            channel=inbound.channel,
            external_id=inbound.external_id,
            subject=(inbound.subject or "")[:500],
            text=summary + "\n\n" + inbound.text,
            attachments=[],
            raw=raw_summary(details),
            automated=True,
            delivery_state=DeliveryState.RECEIVED,
            created_at=now,
        )
        session.add(stored)
        await log_event(session, conversation, summary, now)
    record = new_record(
        details, inbound.channel, inbound.sender.address, now, inbound.parse_error, stored
    )
    record.bounce = {
        "summary": summary,
        "original_message_ids": list(report.original_message_ids),
        "recipients": [
            {
                "address": r.address,
                "action": r.action,
                "status": r.status,
                "diagnostic": r.diagnostic,
            }
            for r in report.recipients
        ],
        "matched_message_id": original.id if original is not None else None,
    }
    session.add(record)
    add_attachments(session, record, stored, inbound.attachments, details)
    await session.flush()
    return BounceOutcome(
        stored.id if stored else None,
        conversation.id if conversation else None,
        conversation.customer_id if conversation else None,
        original.id if original else None,
        duplicate=False,
    )
