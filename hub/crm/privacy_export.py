"""Everything the hub holds about one customer, as one zip: ``customer.json`` (profile,
identities, consent and its history, conversations with every message, tickets, ratings,
campaign recipients, profile changes, widget visitors) and the attachments and raw mails its
entries point at (``attachments/<message>/<position>-<name>``, ``mail/<message>.eml``)."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.core.authz import Principal
from hub.core.consent import consent_of
from hub.core.files import safe_filename
from hub.crm.erasure import erasure_of, same_person
from hub.db.campaign_models import Campaign, CampaignRecipient, ConsentChange
from hub.db.crm_models import CustomerChange
from hub.db.email_models import EmailAttachment, EmailRecord
from hub.db.file_models import StoredFile
from hub.db.models import Agent, Conversation, Customer, Identity, Message, Role, Ticket
from hub.db.routing_models import CsatResponse
from hub.db.widget_models import WidgetVisitor

FORMAT = "relaydesk-customer-export"
MESSAGE_FIELDS = (
    "id",
    "direction",
    "channel",
    "subject",
    "text",
    "html",
    "automated",
    "delivery_state",
    "created_at",
)
CONVERSATION_FIELDS = (
    "id",
    "channel",
    "subject",
    "status",
    "priority",
    "created_at",
    "last_activity_at",
    "resolved_at",
)
CUSTOMER_FIELDS = (
    "id",
    "name",
    "company",
    "tier",
    "tags",
    "attributes",
    "locale",
    "timezone",
    "preferred_channel",
    "notes",
    "created_at",
    "last_contact_at",
)
TICKET_FIELDS = (
    "number",
    "conversation_id",
    "subject",
    "status",
    "priority",
    "category",
    "created_at",
    "updated_at",
)
HISTORY_FIELDS = ("identity_id", "kind", "state", "source", "campaign_id", "note", "created_at")
RECIPIENT_FIELDS = (
    "channel",
    "state",
    "skip_reason",
    "queued_at",
    "sent_at",
    "replied_at",
    "unsubscribed_at",
    "bounced_at",
)


def may_export(principal: Principal) -> bool:
    return principal.role in (Role.ADMIN, Role.SUPERVISOR)


@dataclass
class CustomerExport:
    customer_id: int
    data: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    def filename(self) -> str:
        return f"customer-{self.customer_id}.zip"

    def zipped(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("customer.json", json.dumps(self.data, indent=2, ensure_ascii=False))
            for name, content in self.files.items():
                archive.writestr(name, content)
        return out.getvalue()


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {
        name: _when(value) if isinstance(value, datetime) else value
        for name in names
        for value in [getattr(row, name)]
    }


async def _all(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.scalars(query)).all())


async def _attachments(
    session: AsyncSession, message_ids: list[int], files: dict[str, bytes]
) -> dict[int, list[dict[str, Any]]]:
    """Each message's files (stored uploads and mail parts), added to ``files``."""
    listed: dict[int, list[dict[str, Any]]] = {}

    def keep(message_id: int, position: int, name: str, kind: str, content: bytes | None) -> None:
        path = f"attachments/{message_id}/{position}-{safe_filename(name)}"
        if content is not None:
            files[path] = content
        listed.setdefault(message_id, []).append(
            {"filename": name, "content_type": kind, "file": path if content is not None else None}
        )

    stored = select(StoredFile).where(StoredFile.message_id.in_(message_ids))
    for row in await _all(session, stored.order_by(StoredFile.message_id, StoredFile.position)):
        keep(row.message_id, row.position or 0, row.filename, row.content_type, row.content)
    parts = select(EmailAttachment).where(EmailAttachment.message_id.in_(message_ids))
    for part in await _all(session, parts.order_by(EmailAttachment.id)):
        assert part.message_id is not None
        keep(part.message_id, part.position, part.filename, part.content_type, part.content)
    return listed


async def _conversations(
    session: AsyncSession, ids: list[int], files: dict[str, bytes]
) -> list[dict[str, Any]]:
    conversations = await _all(
        session,
        select(Conversation).where(Conversation.customer_id.in_(ids)).order_by(Conversation.id),
    )
    conv_ids = [c.id for c in conversations]
    messages = await _all(
        session,
        select(Message)
        .where(or_(Message.conversation_id.in_(conv_ids), Message.customer_id.in_(ids)))
        .order_by(Message.id),
    )
    attached = await _attachments(session, [m.id for m in messages], files)
    for mail in await _all(
        session, select(EmailRecord).where(EmailRecord.message_id.in_([m.id for m in messages]))
    ):
        if mail.raw:
            files[f"mail/{mail.message_id}.eml"] = mail.raw
    authors = dict((await session.execute(select(Agent.id, Agent.name))).all())
    by_conversation: dict[int, list[dict[str, Any]]] = {}
    for m in messages:
        entry = _columns(m, MESSAGE_FIELDS)
        entry["author"] = authors.get(m.author_agent_id, "") if m.author_agent_id else ""
        entry["attachments"] = attached.get(m.id, [])
        if f"mail/{m.id}.eml" in files:
            entry["raw_mail"] = f"mail/{m.id}.eml"
        by_conversation.setdefault(m.conversation_id, []).append(entry)
    return [
        {
            **_columns(c, CONVERSATION_FIELDS),
            "messages": by_conversation.get(c.id, []),
        }
        for c in conversations
    ]


async def export_customer(
    session: AsyncSession, customer: Customer, *, actor_id: int | None, now: datetime
) -> CustomerExport:
    """The export of ``customer`` (and the customers merged into it), audited in the caller's
    transaction."""
    ids = await same_person(session, customer.id)
    files: dict[str, bytes] = {}
    conversations = await _conversations(session, ids, files)
    conv_ids = [c["id"] for c in conversations]
    erased = await erasure_of(session, customer.id)
    data: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "customer": {
            **_columns(customer, CUSTOMER_FIELDS),
            "merged_customer_ids": ids[1:],
            "erased_at": _when(erased.erased_at) if erased else None,
        },
        "identities": [
            _columns(i, ("id", "kind", "address", "display_name", "bouncing", "created_at"))
            for i in await _all(
                session,
                select(Identity).where(Identity.customer_id.in_(ids)).order_by(Identity.id),
            )
        ],
        "consents": [
            {
                "identity_id": v.identity_id,
                "kind": v.kind,
                "address": v.address,
                "state": v.state.value if v.state else "unknown",
                "source": v.source.value if v.source else None,
                "changed_at": _when(v.changed_at),
            }
            for cid in ids
            for v in await consent_of(session, cid)
        ],
        "consent_history": [
            _columns(h, HISTORY_FIELDS)
            for h in await _all(
                session,
                select(ConsentChange)
                .where(ConsentChange.customer_id.in_(ids))
                .order_by(ConsentChange.id),
            )
        ],
        "conversations": conversations,
        "tickets": [
            _columns(t, TICKET_FIELDS)
            for t in await _all(
                session,
                select(Ticket).where(Ticket.conversation_id.in_(conv_ids)).order_by(Ticket.id),
            )
        ],
        "satisfaction": [
            _columns(r, ("conversation_id", "score", "via", "created_at"))
            for r in await _all(
                session,
                select(CsatResponse)
                .where(CsatResponse.conversation_id.in_(conv_ids))
                .order_by(CsatResponse.id),
            )
        ],
        "campaigns": [
            {
                "campaign_id": campaign.id,
                "campaign": campaign.name,
                **_columns(r, RECIPIENT_FIELDS),
            }
            for r, campaign in (
                await session.execute(
                    select(CampaignRecipient, Campaign)
                    .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
                    .where(CampaignRecipient.customer_id.in_(ids))
                    .order_by(CampaignRecipient.id)
                )
            ).all()
        ],
        "changes": [
            _columns(ch, ("field", "old_value", "new_value", "source", "created_at"))
            for ch in await _all(
                session,
                select(CustomerChange)
                .where(CustomerChange.customer_id.in_(ids))
                .order_by(CustomerChange.id),
            )
        ],
        "widget_visitors": [
            _columns(w, ("channel", "email", "name", "created_at", "last_seen_at"))
            for w in await _all(
                session, select(WidgetVisitor).where(WidgetVisitor.customer_id.in_(ids))
            )
        ],
    }
    await record_change(
        session,
        actor_id=actor_id,
        area="privacy",
        action="export",
        target=f"customer {customer.id}",
        new={"conversations": len(conversations), "files": len(files)},
        at=now,
    )
    return CustomerExport(customer.id, data, files)
