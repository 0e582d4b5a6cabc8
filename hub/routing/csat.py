"""Customer satisfaction: a 1-5 score per resolved conversation, given through a signed link in
the survey or by replying with a single digit."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Conversation, ConversationStatus, Direction, Message
from hub.db.routing_models import CsatResponse, Job
from hub.platform.events import publish

DIGIT_REPLY = re.compile(r"^\s*([1-5])\s*[.!]?\s*$")
SCORES = range(1, 6)


def signature(secret: str, conversation_id: int) -> str:
    mac = hmac.new(secret.encode(), f"csat:{conversation_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def verify(secret: str, conversation_id: int, given: str) -> bool:
    return hmac.compare_digest(signature(secret, conversation_id), given)


def survey_links(base_url: str, secret: str, conversation_id: int) -> dict[str, str]:
    sig = signature(secret, conversation_id)
    base = base_url.rstrip("/")
    return {str(n): f"{base}/csat/{conversation_id}/{n}?sig={sig}" for n in SCORES}


def digit_reply(text: str) -> int | None:
    match = DIGIT_REPLY.match(text)
    return int(match.group(1)) if match else None


async def awaiting(session: AsyncSession, conversation_id: int, message_id: int) -> bool:
    """A survey went out, is unanswered, and nobody wrote in the conversation since."""
    sent_at = await session.scalar(
        select(func.max(Job.finished_at)).where(
            Job.conversation_id == conversation_id,
            Job.dedupe_key.startswith(f"survey:{conversation_id}:"),
            Job.state == "done",
        )
    )
    if sent_at is None or await answered(session, conversation_id):
        return False
    since = await session.scalar(
        select(func.count(Message.id)).where(
            Message.conversation_id == conversation_id,
            Message.id != message_id,
            Message.direction.in_((Direction.INBOUND, Direction.OUTBOUND)),
            Message.automated.is_(False),
            Message.created_at > sent_at,
        )
    )
    return not since


async def answered(session: AsyncSession, conversation_id: int) -> bool:
    found = await session.scalar(
        select(CsatResponse.id).where(CsatResponse.conversation_id == conversation_id)
    )
    return found is not None


async def record(
    session: AsyncSession, conversation_id: int, score: int, via: str, now: datetime
) -> CsatResponse:
    """Store the score; a later answer replaces an earlier one."""
    if score not in SCORES:
        raise ValueError("score must be 1 to 5")
    row = await session.scalar(
        select(CsatResponse).where(CsatResponse.conversation_id == conversation_id)
    )
    if row is None:
        row = CsatResponse(conversation_id=conversation_id, score=score, via=via, created_at=now)
        session.add(row)
    else:
        row.score, row.via, row.created_at = score, via, now
    await session.flush()
    conversation = await session.get(Conversation, conversation_id)
    if conversation is not None:  # on the event log (webhooks hear it)
        await publish(session, "csat", conversation, now, score=score, via=via, csat_id=row.id)
    return row


async def surveyed_conversation(
    session: AsyncSession, customer_id: int, exclude: int
) -> int | None:
    """The customer's latest resolved conversation whose survey awaits an answer."""
    latest = await session.scalar(
        select(Conversation.id)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.id != exclude,
            Conversation.status == ConversationStatus.RESOLVED,
        )
        .order_by(Conversation.resolved_at.desc(), Conversation.id.desc())
        .limit(1)
    )
    if latest is None or not await awaiting(session, latest, -1):
        return None
    return int(latest)
