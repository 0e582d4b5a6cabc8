"""Attachment downloads, in one place for the agent API and the web app: the same role and
object check (a message in a conversation the agent may not see is answered 404), from either
store (email MIME parts or stored files), always as a download, never rendered inline."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, may_see_conversation
from hub.core.errors import forbidden, not_found, ui_not_kept
from hub.core.files import file_for, safe_filename, served_type
from hub.db.email_models import EmailAttachment
from hub.db.models import Conversation, Message
from hub.web.requests import MAX_ID


@dataclass(frozen=True, slots=True)
class Download:
    filename: str
    content_type: str
    content: bytes


async def load_attachment(
    session: AsyncSession, principal: Principal, message_id: int, position: int
) -> Download:
    """The file at ``position`` of the message, if the agent may see its conversation."""
    if not principal.handles_conversations:
        raise forbidden("download attachments")
    where = f"{message_id}/{position}"
    if not (0 < message_id <= MAX_ID and 0 <= position <= MAX_ID):
        raise not_found("attachment", where)
    message = await session.get(Message, message_id)
    conversation = await session.get(Conversation, message.conversation_id) if message else None
    if (
        message is None
        or conversation is None
        or not await may_see_conversation(session, principal, conversation)
    ):
        raise not_found("attachment", where)
    email_part = await session.scalar(
        select(EmailAttachment).where(
            EmailAttachment.message_id == message.id, EmailAttachment.position == position
        )
    )
    if email_part is not None:
        if not email_part.stored or email_part.content is None:
            raise ui_not_kept(f"the file {email_part.filename!r} ({email_part.size} bytes)")
        return Download(email_part.filename, email_part.content_type, email_part.content)
    stored = await file_for(session, message.id, position)
    if stored is not None:
        return Download(stored.filename, stored.content_type, stored.content)
    listed = message.attachments or []
    if 0 <= position < len(listed):
        name = str(listed[position].get("filename") or "attachment")
        raise ui_not_kept(f"the file {name!r}")
    raise not_found("attachment", where)


def download_response(download: Download) -> web.Response:
    name = safe_filename(download.filename)
    fallback = name.encode("ascii", "replace").decode().replace("?", "_")
    return web.Response(
        body=download.content,
        headers={
            "Content-Type": served_type(download.content_type),
            "Content-Disposition": (
                f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox",
            "Cache-Control": "private, no-store",
        },
    )
