"""Erasing a customer: everything that says who they are or what they wrote is anonymised or
deleted, in one transaction; the counts that reports and campaigns are made of stay.

Anonymised: the customer's name, company, tags, attributes and notes; every identity's address
(``erased-<id>@erased.invalid`` for email, ``erased-<id>`` otherwise) and display name; the
subject, text, HTML and raw payload of every message in their conversations (agent replies and
notes included); conversation and ticket subjects; the raw mail and its headers; widget visitors'
names and addresses; the old and new values of profile edits. Deleted: attachments (stored
files, mail parts, pending chat file fetches), mail participants, duplicate candidates, static
segment memberships, bot forwards, the live feed's events about the conversations. Kept: the
rows themselves (conversations, tickets, messages, ratings, campaign recipients, report facts and
rollups), so every count stays.
Every identity's consent becomes ``suppressed`` from ``erasure``: nothing is ever sent to them.
Customers merged into this one are the same person and are erased with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.core.authz import Principal
from hub.core.consent import record_consent
from hub.core.customer_tags import set_tags
from hub.crm.texts import NOT_SENT_ERASED as NOT_SENT
from hub.db.campaign_models import ConsentChange, ConsentSource, ConsentState, SegmentMember
from hub.db.chat_models import ChatFileFetch
from hub.db.crm_models import CustomerChange
from hub.db.email_models import EmailAttachment, EmailParticipant, EmailRecord
from hub.db.file_models import StoredFile
from hub.db.inbox_models import Event
from hub.db.models import (
    Conversation,
    Customer,
    DeliveryState,
    DuplicateCandidate,
    Identity,
    Message,
    OutboxItem,
    OutboxState,
    Role,
    Ticket,
)
from hub.db.privacy_models import CustomerErasure
from hub.db.routing_models import Job
from hub.db.webhook_models import WebhookAttempt, WebhookDelivery
from hub.db.widget_models import WidgetUpload, WidgetVisitor

ERASED_NOTE = "erased"
ERASED_DOMAIN = "erased.invalid"  # RFC 2606: never delivered anywhere


def may_erase(principal: Principal) -> bool:
    return principal.role == Role.ADMIN


@dataclass(frozen=True, slots=True)
class Erasure:
    customer_id: int
    erased_at: datetime
    counts: dict[str, Any]
    already: bool  # erased before: this call changed nothing


def erased_address(identity: Identity) -> str:
    return (
        f"erased-{identity.id}@{ERASED_DOMAIN}"
        if identity.kind == "email"
        else f"erased-{identity.id}"
    )


async def erasure_of(session: AsyncSession, customer_id: int) -> CustomerErasure | None:
    return await session.get(CustomerErasure, customer_id)


async def surviving_customer(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer, or the one it was merged into (and so on)."""
    customer, seen = await session.get(Customer, customer_id), 0
    while customer is not None and customer.merged_into_id is not None and seen < 20:
        customer, seen = await session.get(Customer, customer.merged_into_id), seen + 1
    return customer


async def same_person(session: AsyncSession, customer_id: int) -> list[int]:
    """The customer and every customer merged into it (directly or through others)."""
    found, frontier = [customer_id], [customer_id]
    while frontier:
        merged = list(
            await session.scalars(select(Customer.id).where(Customer.merged_into_id.in_(frontier)))
        )
        frontier = [cid for cid in merged if cid not in found]
        found.extend(frontier)
    return found


def _rows(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


async def _anonymise_content(session: AsyncSession, ids: Sequence[int]) -> dict[str, int]:
    conversations = select(Conversation.id).where(Conversation.customer_id.in_(ids))
    messages = select(Message.id).where(
        or_(Message.customer_id.in_(ids), Message.conversation_id.in_(conversations))
    )
    mails = select(EmailRecord.id).where(EmailRecord.message_id.in_(messages))
    addresses = select(Identity.address).where(Identity.customer_id.in_(ids))
    uploads = select(StoredFile.id).where(StoredFile.message_id.in_(messages))
    await session.execute(delete(WidgetUpload).where(WidgetUpload.file_id.in_(uploads)))
    files = _rows(
        await session.execute(delete(StoredFile).where(StoredFile.message_id.in_(messages)))
    )
    parts = _rows(
        await session.execute(
            delete(EmailAttachment).where(
                or_(EmailAttachment.message_id.in_(messages), EmailAttachment.email_id.in_(mails))
            )
        )
    )
    await session.execute(delete(ChatFileFetch).where(ChatFileFetch.message_id.in_(messages)))
    await session.execute(
        update(EmailRecord)
        .where(or_(EmailRecord.message_id.in_(messages), EmailRecord.from_address.in_(addresses)))
        .values(
            header_id="erased:" + cast(EmailRecord.id, String),
            envelope_from=None,
            envelope_to=[],
            from_address="",
            recipients={},
            headers=[],
            full_text="",
            quoted_text="",
            signature="",
            html_original=None,
            forwarded_from=None,
            bounce=None,
            parse_error=None,
            raw=b"",
        )
    )
    await session.execute(
        delete(EmailParticipant).where(
            or_(
                EmailParticipant.conversation_id.in_(conversations),
                func.lower(EmailParticipant.address).in_(addresses),
            )
        )
    )
    await session.execute(
        update(OutboxItem).where(OutboxItem.message_id.in_(messages)).values(last_error=None)
    )
    # Anything still waiting to go to them is not sent (to an address that no longer exists).
    await session.execute(
        update(OutboxItem)
        .where(OutboxItem.message_id.in_(messages), OutboxItem.state == OutboxState.PENDING)
        .values(state=OutboxState.FAILED, last_error=NOT_SENT)
    )
    count = _rows(
        await session.execute(
            update(Message)
            .where(Message.id.in_(messages))
            .values(
                subject="",
                text="",
                html=None,
                attachments=[],
                raw={},
                parse_error=None,
                delivery_error=None,
                external_id="erased:" + cast(Message.id, String),
            )
        )
    )
    await session.execute(
        update(Message)
        .where(Message.id.in_(messages), Message.delivery_state == DeliveryState.QUEUED)
        .values(delivery_state=DeliveryState.FAILED, delivery_error=NOT_SENT)
    )
    # The live feed's stored events (replayed to reconnecting pages) may quote them.
    await session.execute(delete(Event).where(Event.conversation_id.in_(conversations)))
    # Webhook deliveries keep the bodies they send (message texts): not sent, not kept.
    erased = select(WebhookDelivery.id).where(WebhookDelivery.conversation_id.in_(conversations))
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(erased)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(erased)))
    # A message forwarded to an external bot carries its text: not sent, not kept.
    await session.execute(
        delete(Job).where(Job.conversation_id.in_(conversations), Job.kind == "bot_forward")
    )
    await session.execute(
        update(Ticket).where(Ticket.conversation_id.in_(conversations)).values(subject="")
    )
    threads = _rows(
        await session.execute(
            update(Conversation)
            .where(Conversation.customer_id.in_(ids))
            .values(subject="", thread_key=None)
        )
    )
    return {"conversations": threads, "messages": count, "attachments": files + parts}


async def _anonymise_people(
    session: AsyncSession, ids: Sequence[int], actor_id: int | None, now: datetime
) -> int:
    await session.execute(
        update(ConsentChange).where(ConsentChange.customer_id.in_(ids)).values(note="")
    )
    identities = list(await session.scalars(select(Identity).where(Identity.customer_id.in_(ids))))
    for identity in identities:
        consent = await record_consent(
            session,
            identity.id,
            ConsentState.SUPPRESSED,
            ConsentSource.ERASURE,
            now,
            agent_id=actor_id,
            note=ERASED_NOTE,
        )
        consent.source, consent.note, consent.changed_at = ConsentSource.ERASURE, ERASED_NOTE, now
        identity.address = erased_address(identity)
        identity.display_name = ""
        identity.bouncing = False
    await session.execute(
        update(WidgetVisitor).where(WidgetVisitor.customer_id.in_(ids)).values(email=None, name="")
    )
    await session.execute(
        update(CustomerChange)
        .where(CustomerChange.customer_id.in_(ids))
        .values(old_value="", new_value="")
    )
    await session.execute(
        delete(DuplicateCandidate).where(
            or_(DuplicateCandidate.customer_id.in_(ids), DuplicateCandidate.candidate_id.in_(ids))
        )
    )
    await session.execute(delete(SegmentMember).where(SegmentMember.customer_id.in_(ids)))
    for customer in await session.scalars(select(Customer).where(Customer.id.in_(ids))):
        await set_tags(session, customer, [])
        customer.name = customer.name_key = customer.company = customer.notes = ""
        customer.attributes, customer.consent = {}, {}
        customer.preferred_channel = None
    return len(identities)


async def erase_customer(
    session: AsyncSession, customer: Customer, *, actor_id: int | None, now: datetime
) -> Erasure:
    """Erase ``customer`` (and those merged into it), audited in the caller's transaction. A
    customer erased before is left as it is: ``already`` says so."""
    done = await erasure_of(session, customer.id)
    if done is not None:
        return Erasure(customer.id, done.erased_at, dict(done.counts or {}), already=True)
    ids = await same_person(session, customer.id)
    counts = await _anonymise_content(session, ids)
    counts["identities"] = await _anonymise_people(session, ids, actor_id, now)
    counts["customers"] = len(ids)
    for cid in ids:
        if await erasure_of(session, cid) is None:
            session.add(
                CustomerErasure(customer_id=cid, agent_id=actor_id, counts=counts, erased_at=now)
            )
    await record_change(
        session,
        actor_id=actor_id,
        area="privacy",
        action="erase",
        target=f"customer {customer.id}",
        new=counts,
        at=now,
    )
    await session.flush()
    return Erasure(customer.id, now, counts, already=False)
