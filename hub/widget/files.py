"""Files in the web chat widget, both ways. A visitor uploads a file over HTTP (kept in
``stored_files``, bound to them by a ``widget_uploads`` row); their message frame names the
upload ids: the ids are first reserved for that message's client id (so a second message cannot
take them and a resend finds them again), then the message is ingested and the files attached
to it in a second commit. The ack goes out after both; a resend after a crash in between
attaches them then. Files on messages of the visitor's own conversations (theirs and the agents'
replies) are served back to them by links signed for the visitor."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVarTuple
from urllib.parse import urlencode

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind
from hub.config.settings import AttachmentSettings
from hub.core.files import (
    FileRefused,
    attach_files,
    file_for,
    files_of,
    purge_unattached,
    store_file,
)
from hub.db.email_models import EmailAttachment
from hub.db.file_models import StoredFile
from hub.db.models import Conversation, Direction, Identity, Message
from hub.db.widget_models import WidgetUpload
from hub.platform.database import Database
from hub.platform.events import publish


class WidgetFileRefused(Exception):
    """A message frame names a file it may not use; nothing was stored for the message."""

    def __init__(self, file_id: int, message: str) -> None:
        super().__init__(message)
        self.file_id = file_id
        self.message = message


@dataclass(frozen=True, slots=True)
class FileLinks:
    """Download links signed for one visitor: valid only for that visitor and that file."""

    secret: str

    def _sig(self, channel: str, visitor_id: str, message_id: int, position: int) -> str:
        payload = f"relaydesk-widget-file:{channel}:{visitor_id}:{message_id}:{position}"
        digest = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def url(self, channel: str, visitor_id: str, message_id: int, position: int) -> str:
        query = urlencode(
            {"v": visitor_id, "s": self._sig(channel, visitor_id, message_id, position)}
        )
        return f"/widget/{channel}/files/{message_id}/{position}?{query}"

    def verify(
        self, channel: str, visitor_id: str, message_id: int, position: int, sig: str
    ) -> bool:
        if not (visitor_id.isascii() and sig.isascii()):
            return False
        expected = self._sig(channel, visitor_id, message_id, position).encode()
        return hmac.compare_digest(expected, sig.encode())


def file_entries(
    links: FileLinks | None,
    channel: str,
    visitor_id: str,
    message_id: int,
    attachments: Sequence[dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    """What the chat window lists for a message's files: name, type, size and link."""
    entries = []
    for position, meta in enumerate(attachments or ()):
        if meta.get("inline"):
            continue
        entry: dict[str, Any] = {
            "filename": str(meta.get("filename") or "file"),
            "content_type": str(meta.get("content_type") or ""),
            "size": int(meta.get("size") or 0),
        }
        if links is not None:
            entry["url"] = links.url(channel, visitor_id, message_id, position)
        entries.append(entry)
    return entries


async def store_visitor_file(
    session: AsyncSession,
    *,
    channel: str,
    visitor_id: str,
    filename: str,
    content_type: str,
    content: bytes,
    settings: AttachmentSettings,
    now: datetime,
) -> StoredFile:
    """Keep a visitor's upload, bound to them (raises ``FileTooLarge``; caller commits)."""
    await purge_unattached(session, before=now - timedelta(hours=settings.keep_unattached_hours))
    row = await store_file(
        session,
        filename=filename,
        content_type=content_type,
        content=content,
        now=now,
        max_bytes=settings.max_bytes,
    )
    session.add(
        WidgetUpload(file_id=row.id, channel=channel, visitor_id=visitor_id, created_at=now)
    )
    await session.flush()
    return row


async def reserve_files(
    db: Database, channel: str, visitor_id: str, client_id: str, file_ids: Sequence[int]
) -> None:
    """Claim the visitor's uploads for the message ``client_id``, or refuse naming the file:
    an id that is not this visitor's upload, or one another message of theirs took."""
    if not file_ids:
        return
    async with db.writer() as session:
        for file_id in file_ids:
            claimed = await session.execute(
                update(WidgetUpload)
                .where(
                    WidgetUpload.file_id == file_id,
                    WidgetUpload.channel == channel,
                    WidgetUpload.visitor_id == visitor_id,
                    or_(WidgetUpload.client_id.is_(None), WidgetUpload.client_id == client_id),
                )
                .values(client_id=client_id)
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) != 1:
                await session.rollback()
                owned = await session.scalar(
                    select(WidgetUpload.client_id).where(
                        WidgetUpload.file_id == file_id,
                        WidgetUpload.channel == channel,
                        WidgetUpload.visitor_id == visitor_id,
                    )
                )
                if owned is not None:
                    raise WidgetFileRefused(
                        file_id, f"file {file_id} is already attached to another message"
                    )
                raise WidgetFileRefused(
                    file_id, f"file {file_id} does not exist or was not uploaded by you"
                )
        await session.commit()


async def attach_reserved(
    db: Database, message_id: int, file_ids: Sequence[int], now: datetime
) -> list[dict[str, Any]]:
    """Attach the reserved files to the ingested message, once: a message that already has
    files (a resend) gets nothing more. Open agent views are told to show them. Returns the
    message's attachments as listed."""
    if not file_ids:
        return []
    async with db.writer() as session:
        if await files_of(session, message_id):
            return await _listed(session, message_id)
        try:
            await attach_files(session, message_id, file_ids, agent_id=None)
        except FileRefused:  # the same message's other resend attached them a moment ago
            await session.rollback()
            if {row.id for row in await files_of(session, message_id)} >= set(file_ids):
                return await _listed(session, message_id)
            raise
        message = await session.get(Message, message_id)
        conversation = await session.get(Conversation, message.conversation_id) if message else None
        if conversation is not None:
            await publish(session, "message", conversation, now, message_id=message_id)
        listed = list(message.attachments or []) if message else []
        await session.commit()
        return listed


async def _listed(session: AsyncSession, message_id: int) -> list[dict[str, Any]]:
    message = await session.get(Message, message_id)
    return list(message.attachments or []) if message else []


Columns = TypeVarTuple("Columns")


def visitor_messages(query: Select[*Columns], visitor_id: str, channel: str) -> Select[*Columns]:
    """Narrow a query over messages to what the visitor's chat window may show: customer and
    agent messages (no notes, no system events) of the conversations the visitor opened (the
    conversation's own identity, or their customer's conversations on this widget)."""
    return (
        query.join(Conversation, Conversation.id == Message.conversation_id)
        .join(
            Identity,
            or_(
                Identity.id == Conversation.identity_id,
                and_(
                    Identity.customer_id == Conversation.customer_id,
                    Conversation.channel == channel,
                ),
            ),
        )
        .where(
            Identity.kind == IdentityKind.WEB.value,
            Identity.address == visitor_id,
            Message.direction.in_([Direction.INBOUND.value, Direction.OUTBOUND.value]),
        )
    )


@dataclass(frozen=True, slots=True)
class VisitorDownload:
    filename: str
    content_type: str
    content: bytes


async def visitor_file(
    session: AsyncSession, visitor_id: str, channel: str, message_id: int, position: int
) -> VisitorDownload | None:
    """The file at ``position`` of a message in the visitor's own conversations, else None."""
    message = await session.scalar(
        visitor_messages(select(Message), visitor_id, channel).where(Message.id == message_id)
    )
    if message is None:
        return None
    stored = await file_for(session, message.id, position)
    if stored is not None:
        return VisitorDownload(stored.filename, stored.content_type, stored.content)
    part = await session.scalar(
        select(EmailAttachment).where(
            EmailAttachment.message_id == message.id, EmailAttachment.position == position
        )
    )
    if part is not None and part.stored and part.content is not None:
        return VisitorDownload(part.filename, part.content_type, part.content)
    return None
