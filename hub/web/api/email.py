"""Email endpoints of the agent API: the full mail behind a timeline entry (one click away),
its raw original and attachments (authorized agents only), participants, split and merge,
and the mailboxes' state for admins."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.authz import Principal, may_see_conversation, visible_conversation
from hub.core.errors import forbidden, not_found, ui_conflict
from hub.core.sanitize import sanitize_html
from hub.db.email_models import EmailAttachment, EmailMailbox, EmailParticipant, EmailRecord
from hub.db.models import Conversation, Message
from hub.email.conversation_ops import OperationRefused, merge_conversations, split_message
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models import email as shapes
from hub.web.api.models.conversations import Conversation as ConversationAnswer
from hub.web.api.models.conversations import ConversationId
from hub.web.api.models.email import AttachmentAt, MergeInto, MessageId
from hub.web.downloads import download_response, load_attachment


async def _message(session: AsyncSession, principal: Principal, message_id: int) -> Message:
    message = await session.get(Message, message_id)
    conversation = await session.get(Conversation, message.conversation_id) if message else None
    if (
        message is None
        or conversation is None
        or not await may_see_conversation(session, principal, conversation)
    ):
        raise not_found("message", message_id)
    return message


async def _record(session: AsyncSession, message: Message) -> EmailRecord:
    record = await session.scalar(select(EmailRecord).where(EmailRecord.message_id == message.id))
    if record is None:
        raise not_found("mail for message", message.id)
    return record


def _doc(
    summary: str,
    operation_id: str,
    ok: str,
    *,
    status: int = 200,
    media: str | None = "application/json",
    errors: tuple[int, ...] = (),
    notes: dict[int, str] | None = None,
) -> Doc:
    return Doc(
        "email",
        summary,
        operation_id,
        ok={status: ok},
        errors=(401, 403, 404, *errors),
        notes=notes or {},
        media=media,
    )


@endpoint(
    "GET",
    "/api/v1/messages/{id}/email",
    _doc(
        "The full mail behind a timeline entry: new text, quoted history, signature, "
        "sanitized HTML, headers, recipients, attachments, bounce report",
        "getEmail",
        "the mail",
    ),
)
async def get_email(call: Call, path: MessageId) -> shapes.Email:
    async with call.hub.db.reader() as session:
        message = await _message(session, call.principal, path.id)
        record = await _record(session, message)
        attachments = (
            await session.scalars(
                select(EmailAttachment)
                .where(EmailAttachment.email_id == record.id)
                .order_by(EmailAttachment.position)
            )
        ).all()
        return shapes.Email.model_validate(
            {
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
                "attachments": [_attachment(message.id, a) for a in attachments],
                "raw_url": f"/api/v1/messages/{message.id}/raw",
                "received_at": record.created_at,
            }
        )


def _attachment(message_id: int, row: EmailAttachment) -> shapes.EmailAttachment:
    url = f"/api/v1/messages/{message_id}/attachments/{row.position}" if row.stored else None
    return shapes.EmailAttachment(
        position=row.position,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        content_id=row.content_id,
        inline=row.inline,
        stored=row.stored,
        contains=row.contains,
        url=url,
    )


@endpoint(
    "GET",
    "/api/v1/messages/{id}/raw",
    _doc(
        "The original RFC 822 bytes as received",
        "getRawEmail",
        "the raw mail",
        media="message/rfc822",
    ),
)
async def get_raw(call: Call, path: MessageId) -> web.Response:
    async with call.hub.db.reader() as session:
        message = await _message(session, call.principal, path.id)
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


@endpoint(
    "GET",
    "/api/v1/messages/{id}/attachments/{position}",
    _doc(
        "One attachment's content (served as a download, to agents who may see the message)",
        "getAttachment",
        "the content",
        media="*/*",
        notes={410: "over the size cap; not kept"},
    ),
)
async def get_attachment(call: Call, path: AttachmentAt) -> web.Response:
    async with call.hub.db.reader() as session:
        download = await load_attachment(session, call.principal, path.id, path.position)
    return download_response(download)


@endpoint(
    "GET",
    "/api/v1/conversations/{id}/participants",
    _doc(
        "Everyone who wrote to or was copied on the conversation's mail",
        "listParticipants",
        "participants",
    ),
)
async def list_participants(call: Call, path: ConversationId) -> shapes.Participants:
    async with call.hub.db.reader() as session:
        conversation = await visible_conversation(session, call.principal, path.id)
        rows = (
            await session.scalars(
                select(EmailParticipant)
                .where(EmailParticipant.conversation_id == conversation.id)
                .order_by(EmailParticipant.id)
            )
        ).all()
    return shapes.Participants(items=[shapes.Participant.model_validate(r) for r in rows])


@endpoint(
    "POST",
    "/api/v1/messages/{id}/split",
    _doc(
        "Move a received message into a new conversation (with its own ticket)",
        "splitMessage",
        "the new conversation",
        status=201,
        notes={409: "nothing to split"},
    ),
)
async def split(call: Call, path: MessageId) -> ConversationAnswer:
    hub = call.hub
    now = hub.clock.now()
    async with hub.db.writer() as session:
        message = await _message(session, call.principal, path.id)
        try:
            conversation = await split_message(
                session, hub.settings, message, call.principal.agent_id, now
            )
        except OperationRefused as exc:
            raise ui_conflict(str(exc)) from None
        await session.commit()
        return ConversationAnswer.model_validate(conversation)


@endpoint(
    "POST",
    "/api/v1/conversations/{id}/merge",
    _doc(
        "Merge this conversation into another; later mail for it lands there",
        "mergeConversation",
        "the target conversation",
        errors=(400, 413, 422),
        notes={409: "already merged, or into itself"},
    ),
)
async def merge(call: Call, path: ConversationId, body: MergeInto) -> ConversationAnswer:
    hub, principal = call.hub, call.principal
    now = hub.clock.now()
    async with hub.db.writer() as session:
        source = await visible_conversation(session, principal, path.id)
        target = await visible_conversation(session, principal, body.into)
        before = source.status, target.status
        try:
            await merge_conversations(session, source, target, principal.agent_id, now)
        except OperationRefused as exc:
            raise ui_conflict(str(exc)) from None
        await hub.reports.status_changed(session, target, before[1], now, principal.agent_id)
        await hub.reports.status_changed(session, source, before[0], now, principal.agent_id)
        await session.commit()
        return ConversationAnswer.model_validate(target)


@endpoint(
    "GET",
    "/api/v1/email/mailboxes",
    _doc(
        "State of every inbound mail source (SMTP listener, IMAP mailbox): connected, "
        "last error, position (supervisors and admins)",
        "listMailboxes",
        "mailboxes",
    ),
)
async def list_mailboxes(call: Call) -> shapes.Mailboxes:
    if not call.principal.sees_everything:
        raise forbidden("see the mailboxes' state")
    async with call.hub.db.reader() as session:
        rows = (
            await session.scalars(
                select(EmailMailbox).order_by(EmailMailbox.channel, EmailMailbox.source)
            )
        ).all()
    return shapes.Mailboxes(items=[shapes.Mailbox.model_validate(row) for row in rows])


ENDPOINTS: tuple[Endpoint, ...] = (
    get_email,
    get_raw,
    get_attachment,
    split,
    list_participants,
    merge,
    list_mailboxes,
)
