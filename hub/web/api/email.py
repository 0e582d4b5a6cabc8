"""Email endpoints of the agent API: the full mail behind a timeline entry (one click away),
its raw original and attachments (authorized agents only), participants, split and merge,
and the mailboxes' state for admins."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, can_see_conversation
from hub.core.errors import forbidden, invalid_field, not_found, ui_conflict
from hub.core.sanitize import sanitize_html
from hub.db.email_models import EmailAttachment, EmailMailbox, EmailParticipant, EmailRecord
from hub.db.models import Conversation, Message
from hub.email.conversation_ops import OperationRefused, merge_conversations, split_message
from hub.web.api.serialize import conversation_json, iso
from hub.web.auth import authenticate
from hub.web.downloads import download_response, load_attachment
from hub.web.keys import hub_of
from hub.web.requests import json_object, path_id, row_id


async def _message(session: AsyncSession, principal: Principal, message_id: int) -> Message:
    message = await session.get(Message, message_id)
    conversation = await session.get(Conversation, message.conversation_id) if message else None
    if message is None or conversation is None or not can_see_conversation(principal, conversation):
        raise not_found("message", message_id)
    return message


async def _conversation(session: AsyncSession, principal: Principal, ident: int) -> Conversation:
    conversation = await session.get(Conversation, ident)
    if conversation is None or not can_see_conversation(principal, conversation):
        raise not_found("conversation", ident)
    return conversation


async def _record(session: AsyncSession, message: Message) -> EmailRecord:
    record = await session.scalar(select(EmailRecord).where(EmailRecord.message_id == message.id))
    if record is None:
        raise not_found("mail for message", message.id)
    return record


def _attachment_json(message_id: int, row: EmailAttachment) -> dict[str, Any]:
    return {
        "position": row.position,
        "filename": row.filename,
        "content_type": row.content_type,
        "size": row.size,
        "content_id": row.content_id,
        "inline": row.inline,
        "stored": row.stored,
        "contains": row.contains,
        "url": f"/api/v1/messages/{message_id}/attachments/{row.position}" if row.stored else None,
    }


async def get_email(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        message = await _message(session, principal, path_id(request, "message"))
        record = await _record(session, message)
        attachments = (
            await session.scalars(
                select(EmailAttachment)
                .where(EmailAttachment.email_id == record.id)
                .order_by(EmailAttachment.position)
            )
        ).all()
        body = {
            "message_id": message.id,
            "header_message_id": record.header_id,
            "mailbox": record.channel,
            "from": record.from_address,
            "envelope_from": record.envelope_from,
            "envelope_to": record.envelope_to,
            "recipients": record.recipients,
            "new_text": message.text,
            "full_text": record.full_text,
            "quoted_text": record.quoted_text,
            "signature": record.signature,
            "html": sanitize_html(record.html_original) if record.html_original else None,
            "forwarded_from": record.forwarded_from,
            "bounce": record.bounce,
            "parse_error": record.parse_error,
            "size": record.size,
            "headers": record.headers,
            "attachments": [_attachment_json(message.id, a) for a in attachments],
            "raw_url": f"/api/v1/messages/{message.id}/raw",
            "received_at": iso(record.created_at),
        }
    return web.json_response(body)


async def get_raw(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        message = await _message(session, principal, path_id(request, "message"))
        record = await _record(session, message)
        raw = record.raw
    return web.Response(
        body=raw,
        content_type="message/rfc822",
        headers={
            "Content-Disposition": f'attachment; filename="message-{message.id}.eml"',
            "X-Content-Type-Options": "nosniff",
        },
    )


async def get_attachment(request: web.Request) -> web.Response:
    hub = hub_of(request)
    message_id = path_id(request, "message")
    position = row_id(request.match_info["position"])
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        if position is None:
            raise not_found("attachment", f"{message_id}/{request.match_info['position']}")
        download = await load_attachment(session, principal, message_id, position)
    return download_response(download)


async def list_participants(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        conversation = await _conversation(session, principal, path_id(request, "conversation"))
        rows = (
            await session.scalars(
                select(EmailParticipant)
                .where(EmailParticipant.conversation_id == conversation.id)
                .order_by(EmailParticipant.id)
            )
        ).all()
    items = [{"address": r.address, "name": r.name, "role": r.role} for r in rows]
    return web.json_response({"items": items})


async def split(request: web.Request) -> web.Response:
    hub = hub_of(request)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        message = await _message(session, principal, path_id(request, "message"))
        try:
            conversation = await split_message(
                session, hub.settings, message, principal.agent_id, now
            )
        except OperationRefused as exc:
            raise ui_conflict(str(exc)) from None
        await session.commit()
        body = conversation_json(conversation)
    return web.json_response(body, status=201)


async def merge(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, {"into"})
    into = payload.get("into")
    if not isinstance(into, int) or isinstance(into, bool) or row_id(str(into)) is None:
        raise invalid_field("into", "is required: the id of the conversation to merge into")
    now = hub.clock.now()
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        source = await _conversation(session, principal, path_id(request, "conversation"))
        target = await _conversation(session, principal, into)
        try:
            await merge_conversations(session, source, target, principal.agent_id, now)
        except OperationRefused as exc:
            raise ui_conflict(str(exc)) from None
        await session.commit()
        body = conversation_json(target)
    return web.json_response(body)


async def list_mailboxes(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        if not principal.sees_everything:
            raise forbidden("see the mailboxes' state")
        rows = (
            await session.scalars(
                select(EmailMailbox).order_by(EmailMailbox.channel, EmailMailbox.source)
            )
        ).all()
    items = [
        {
            "channel": row.channel,
            "source": row.source,
            "state": row.state,
            "detail": row.detail,
            "last_error": row.last_error,
            "last_error_at": iso(row.last_error_at),
            "connected_at": iso(row.connected_at),
            "last_message_at": iso(row.last_message_at),
            "uidvalidity": row.uidvalidity,
            "last_uid": row.last_uid,
            "imported": row.imported,
            "updated_at": iso(row.updated_at),
        }
        for row in rows
    ]
    return web.json_response({"items": items})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/messages/{id}/email", get_email)
    router.add_get("/api/v1/messages/{id}/raw", get_raw)
    router.add_get("/api/v1/messages/{id}/attachments/{position}", get_attachment)
    router.add_post("/api/v1/messages/{id}/split", split)
    router.add_get("/api/v1/conversations/{id}/participants", list_participants)
    router.add_post("/api/v1/conversations/{id}/merge", merge)
    router.add_get("/api/v1/email/mailboxes", list_mailboxes)
