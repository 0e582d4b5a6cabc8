"""The hub's side of the web chat widget: signed visitor tokens, visitors and the email they leave,
presence (live sockets, across processes) and the chat history a visitor sees."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind, Party
from hub.core.customers import name_key, resolve_customer
from hub.db.models import (
    Agent,
    Direction,
    DuplicateCandidate,
    Identity,
    Message,
)
from hub.db.widget_models import WidgetConnection, WidgetDelivery, WidgetVisitor
from hub.platform.database import Database
from hub.widget.files import FileLinks, file_entries, visitor_messages
from hub.widget.texts import is_visitor_label

_VISITOR = re.compile(r"^[0-9a-f]{32}$")
# Messages committed out of id order (PostgreSQL hands out ids before commit) are caught by
# looking this far back in time as well as past the last id a visitor saw.
OVERLAP = timedelta(seconds=10)
HISTORY_LIMIT = 500
SIGNATURE = "\n\n-- \n"


def new_visitor_id() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class VisitorTokens:
    """``<visitor id>.<HMAC(secret, channel, visitor id)>``: kept by the browser, checked in
    constant time; a token made for one widget channel is not valid for another."""

    secret: str

    def _mac(self, channel: str, visitor_id: str) -> str:
        payload = f"relaydesk-widget-visitor:{channel}:{visitor_id}".encode()
        digest = hmac.new(self.secret.encode(), payload, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def issue(self, channel: str, visitor_id: str) -> str:
        return f"{visitor_id}.{self._mac(channel, visitor_id)}"

    def verify(self, channel: str, token: str) -> str | None:
        """The visitor id the token names, or None when it is not one we signed."""
        visitor_id, _, mac = token.partition(".")
        if not token.isascii() or not _VISITOR.match(visitor_id):
            return None
        expected = self._mac(channel, visitor_id).encode()
        return visitor_id if hmac.compare_digest(expected, mac.encode()) else None


@dataclass(frozen=True, slots=True)
class ChatItem:
    """One message as the visitor's window shows it."""

    id: int
    conversation_id: int
    direction: str
    channel: str
    text: str
    author: str | None
    client_id: str | None
    created_at: datetime
    # An outbound message of the widget channel with no delivery recorded yet.
    undelivered: bool
    attachments: tuple[dict[str, Any], ...] = ()
    # A bot's buttons ({"title", "payload"} or {"title", "url"}); a press is sent back as a
    # message frame with "button": the payload.
    buttons: tuple[dict[str, Any], ...] = ()
    card: dict[str, Any] | None = None  # a bot's card or image: {"title"?, "image"?}

    def frame(
        self, links: FileLinks | None = None, widget: str = "", visitor_id: str = ""
    ) -> dict[str, Any]:
        """The message frame; with ``links`` its files carry download links for the visitor."""
        inbound = self.direction == Direction.INBOUND
        text = self.text if inbound else self.text.split(SIGNATURE, 1)[0].rstrip()
        return {
            "type": "message",
            "message": {
                "id": self.id,
                "from": "visitor" if inbound else "agent",
                "text": text,
                "author": self.author,
                "client_id": self.client_id,
                "via": self.channel,
                "created_at": self.created_at.isoformat(),
                "files": file_entries(links, widget, visitor_id, self.id, self.attachments),
                **({"buttons": list(self.buttons)} if self.buttons else {}),
                **({"card": dict(self.card)} if self.card else {}),
            },
        }


async def remember_visitor(
    db: Database, channel: str, visitor_id: str, now: datetime
) -> WidgetVisitor:
    """The visitor's row, created on first sight; ``last_seen_at`` moves on."""
    for _attempt in (1, 2):
        async with db.writer() as session:
            visitor = await session.scalar(
                select(WidgetVisitor).where(WidgetVisitor.visitor_id == visitor_id)
            )
            if visitor is None:
                visitor = WidgetVisitor(
                    visitor_id=visitor_id,
                    channel=channel,
                    name="",
                    created_at=now,
                    last_seen_at=now,
                )
                session.add(visitor)
            else:
                visitor.last_seen_at = now
            try:
                await session.commit()
            except IntegrityError:  # the same visitor's other tab created it a moment ago
                await session.rollback()
                continue
            return visitor
    raise RuntimeError(f"widget visitor {visitor_id} could not be stored")


@dataclass(frozen=True, slots=True)
class EmailSaved:
    email: str
    # The address already belongs to another customer: a merge is suggested, not made.
    merge_suggested: bool


async def _visitor_customer(
    session: AsyncSession, visitor: WidgetVisitor, name: str, email: str, now: datetime
) -> tuple[int, int]:
    """The visitor's customer; one still shown as "Visitor from <page>" takes the name (or the
    email) the visitor just gave."""
    party = Party(IdentityKind.WEB, visitor.visitor_id, name or None)
    resolved = await resolve_customer(session, party, now)
    customer, identity = resolved.customer, resolved.identity
    if is_visitor_label(customer.name):
        customer.name = name or email
        customer.name_key = name_key(customer.name)
    if is_visitor_label(identity.display_name or ""):
        identity.display_name = name or email
    await session.flush()
    return customer.id, identity.id


async def leave_email(
    db: Database, visitor_id: str, email: str, name: str, now: datetime
) -> EmailSaved:
    """Keep the visitor's email as an email identity of their customer. An address that
    belongs to another customer stays theirs: a duplicate candidate is recorded instead."""
    for attempt in (1, 2):
        async with db.writer() as session:
            visitor = await session.scalar(
                select(WidgetVisitor).where(WidgetVisitor.visitor_id == visitor_id)
            )
            assert visitor is not None
            try:
                saved = await _save_email(session, visitor, email, name, now)
                await session.commit()
                return saved
            except IntegrityError:  # the ingest created the same customer meanwhile
                await session.rollback()
                if attempt == 2:
                    raise
    raise AssertionError("unreachable")


async def _save_email(
    session: AsyncSession, visitor: WidgetVisitor, email: str, name: str, now: datetime
) -> EmailSaved:
    customer_id, identity_id = await _visitor_customer(session, visitor, name, email, now)
    visitor.customer_id, visitor.identity_id = customer_id, identity_id
    visitor.email = email
    if name:
        visitor.name = name
    owner = await session.scalar(
        select(Identity).where(Identity.kind == IdentityKind.EMAIL.value, Identity.address == email)
    )
    if owner is None:
        session.add(
            Identity(
                customer_id=customer_id,
                kind=IdentityKind.EMAIL.value,
                address=email,
                display_name=name,
                created_at=now,
            )
        )
        return EmailSaved(email, merge_suggested=False)
    if owner.customer_id == customer_id:
        return EmailSaved(email, merge_suggested=False)
    known = await session.scalar(
        select(DuplicateCandidate.id).where(
            DuplicateCandidate.customer_id == customer_id,
            DuplicateCandidate.candidate_id == owner.customer_id,
        )
    )
    if known is None:
        session.add(
            DuplicateCandidate(
                customer_id=customer_id,
                candidate_id=owner.customer_id,
                score=100.0,
                reason="left this customer's email address in the web chat",
                created_at=now,
            )
        )
    return EmailSaved(email, merge_suggested=True)


async def chat_items(
    session: AsyncSession, visitor_id: str, channel: str, since: int, now: datetime
) -> list[ChatItem]:
    """What the visitor's window shows after message ``since`` (and the last few seconds, for
    late commits): their messages and the replies, in every conversation they opened (the
    conversation's own identity, or their customer's conversations on this widget)."""
    base = (
        visitor_messages(
            select(Message, Agent.name, WidgetDelivery.message_id), visitor_id, channel
        )
        .outerjoin(Agent, Agent.id == Message.author_agent_id)
        .outerjoin(WidgetDelivery, WidgetDelivery.message_id == Message.id)
        .order_by(Message.id)
        .limit(HISTORY_LIMIT)
    )
    newer = (await session.execute(base.where(Message.id > since))).all()
    late = (
        await session.execute(base.where(Message.id <= since, Message.created_at >= now - OVERLAP))
    ).all()
    rows = sorted([*late, *newer], key=lambda row: row[0].id)
    items = []
    for message, author, delivered in rows:
        raw = message.raw or {}
        items.append(
            ChatItem(
                id=message.id,
                conversation_id=message.conversation_id,
                direction=message.direction,
                channel=message.channel,
                text=message.text,
                author=author,
                client_id=raw.get("client_id") if message.channel == channel else None,
                created_at=message.created_at,
                undelivered=(
                    message.direction == Direction.OUTBOUND
                    and message.channel == channel
                    and delivered is None
                ),
                attachments=tuple(message.attachments or ()),
                buttons=tuple(raw.get("buttons") or ()) if raw.get("native_buttons") else (),
                card=raw.get("card") if raw.get("native_buttons") else None,
            )
        )
    return items


@dataclass(frozen=True, slots=True)
class Presence:
    live: bool
    last_seen: datetime | None


async def presence(session: AsyncSession, visitor_id: str, now: datetime) -> Presence:
    """Whether any hub process holds a live socket of the visitor, and when one last closed."""
    rows = (
        await session.execute(
            select(WidgetConnection.lease_until, WidgetConnection.closed_at)
            .where(WidgetConnection.visitor_id == visitor_id)
            .order_by(WidgetConnection.opened_at.desc())
            .limit(50)
        )
    ).all()
    live = any(closed is None and lease > now for lease, closed in rows)
    seen = [closed or min(lease, now) for lease, closed in rows]
    return Presence(live, max(seen) if seen else None)
