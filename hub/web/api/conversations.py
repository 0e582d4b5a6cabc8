"""The agent API: conversations, messages, customers. Every call is authenticated by bearer token
and authorized against the caller's role and the object it touches (a conversation an agent may
not see answers 404, as if it did not exist)."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.agent.replies import NoRecipient, add_note, send_reply
from hub.config.settings import PRIORITIES
from hub.core.authz import (
    Principal,
    can_see_conversation,
    can_see_customer,
    conversation_filter,
    may_assign,
)
from hub.core.conversations import assign, set_status
from hub.core.errors import ASSIGN_FORBIDDEN, forbidden, invalid_field, invalid_query, not_found
from hub.core.tickets import change_priority, ticket_for
from hub.db.models import (
    Agent,
    Conversation,
    ConversationStatus,
    Customer,
    Identity,
    Message,
    Role,
    Team,
)
from hub.platform.events import publish
from hub.web.api.serialize import conversation_json, customer_json, message_json, ticket_json
from hub.web.api.uploads import attach_uploads, attachment_ids
from hub.web.auth import authenticate
from hub.web.keys import hub_of
from hub.web.requests import (
    MAX_ID,
    decode_cursor,
    encode_cursor,
    int_query,
    json_object,
    path_id,
    row_id,
)

MAX_REPLY_CHARS = 65_536


async def _conversation(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> Conversation:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or not can_see_conversation(principal, conversation):
        raise not_found("conversation", conversation_id)
    return conversation


async def list_conversations(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        if not principal.handles_conversations:
            raise forbidden("list conversations")
        query = select(Conversation).where(conversation_filter(principal))
        status = request.query.get("status")
        if status is not None:
            if status not in set(ConversationStatus):
                raise invalid_query("status", "must be one of open, pending, snoozed, resolved")
            query = query.where(Conversation.status == status)
        assignee = request.query.get("assignee")
        if assignee is not None:
            if assignee == "me":
                query = query.where(Conversation.assignee_id == principal.agent_id)
            elif assignee == "none":
                query = query.where(Conversation.assignee_id.is_(None))
            elif row_id(assignee) is not None:
                query = query.where(Conversation.assignee_id == row_id(assignee))
            else:
                raise invalid_query("assignee", "must be an agent id, me or none")
        team = request.query.get("team")
        if team is not None:
            if not team or len(team) > 64 or not team.isprintable():
                raise invalid_query("team", "must be a team id or slug")
            team_id = row_id(team) or await session.scalar(select(Team.id).where(Team.slug == team))
            query = query.where(Conversation.team_id == (team_id or -1))
        limit = int_query(request, "limit", 25, 1, 100)
        cursor = request.query.get("cursor")
        if cursor:
            moment, ident = decode_cursor(cursor)
            query = query.where(
                or_(
                    Conversation.last_activity_at < moment,
                    and_(Conversation.last_activity_at == moment, Conversation.id < ident),
                )
            )
        query = query.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        rows = list((await session.scalars(query.limit(limit + 1))).all())
    items = rows[:limit]
    next_cursor = (
        encode_cursor(items[-1].last_activity_at, items[-1].id) if len(rows) > limit else None
    )
    return web.json_response(
        {"items": [conversation_json(c) for c in items], "next_cursor": next_cursor}
    )


async def get_conversation(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        conversation = await _conversation(session, principal, path_id(request, "conversation"))
        ticket = await ticket_for(session, conversation.id)
        body = conversation_json(conversation)
        body["ticket"] = ticket_json(ticket) if ticket else None
    return web.json_response(body)


async def list_messages(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        conversation = await _conversation(session, principal, path_id(request, "conversation"))
        limit = int_query(request, "limit", 50, 1, 200)
        after = int_query(request, "after", 0, 0, MAX_ID)
        rows = list(
            (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation.id, Message.id > after)
                    .order_by(Message.id)
                    .limit(limit + 1)
                )
            ).all()
        )
    items = rows[:limit]
    next_after = items[-1].id if len(rows) > limit else None
    return web.json_response({"items": [message_json(m) for m in items], "next_after": next_after})


async def post_message(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, {"text", "private", "attachments"})
    file_ids = attachment_ids(payload, hub.settings.attachments.max_files)
    text = payload.get("text", "" if file_ids else None)
    if not isinstance(text, str) or not (text.strip() or file_ids):
        raise invalid_field("text", "is required and must be a non-empty string")
    if len(text) > MAX_REPLY_CHARS:
        raise invalid_field("text", f"is longer than {MAX_REPLY_CHARS} characters")
    private = payload.get("private", False)
    if not isinstance(private, bool):
        raise invalid_field("private", "must be true or false")
    now = hub.clock.now()
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        conversation = await _conversation(session, principal, path_id(request, "conversation"))
        agent = await session.get(Agent, principal.agent_id)
        assert agent is not None
        if private:
            message = await add_note(session, conversation, agent, text, now)
        else:
            try:
                message = await send_reply(
                    session, hub.settings, hub.renderer, conversation, agent, text, now
                )
            except NoRecipient:
                raise invalid_field(
                    "text", "the customer has no address this conversation's channel can reach"
                ) from None
        await attach_uploads(session, message, file_ids, principal.agent_id)
        await publish(session, "message", conversation, now, message_id=message.id)
        await session.commit()
        body = message_json(message)
    hub.dispatcher.wake()
    return web.json_response(body, status=201)


async def _assignable(session: AsyncSession, agent_id: int) -> bool:
    """An active account whose role handles conversations (not a marketer)."""
    agent = await session.get(Agent, agent_id)
    return agent is not None and agent.active and agent.role != Role.MARKETER


async def patch_conversation(request: web.Request) -> web.Response:
    hub = hub_of(request)
    payload = await json_object(request, {"status", "assignee_id", "priority"})
    status = payload.get("status")
    if "status" in payload and (
        not isinstance(status, str) or status not in set(ConversationStatus)
    ):
        raise invalid_field("status", "must be one of open, pending, snoozed, resolved")
    priority = payload.get("priority")
    if "priority" in payload and (not isinstance(priority, str) or priority not in PRIORITIES):
        raise invalid_field("priority", "must be one of " + ", ".join(PRIORITIES))
    assignee = payload.get("assignee_id", ...)
    if (
        assignee is not ...
        and assignee is not None
        and (
            not isinstance(assignee, int)
            or isinstance(assignee, bool)
            or not 0 < assignee <= MAX_ID
        )
    ):
        raise invalid_field("assignee_id", "must be an agent id or null")
    now = hub.clock.now()
    async with hub.db.writer() as session:
        principal = await authenticate(request, session)
        conversation = await _conversation(session, principal, path_id(request, "conversation"))
        if assignee is not ...:
            if not await may_assign(session, principal, conversation, assignee):
                raise forbidden(ASSIGN_FORBIDDEN)
            if assignee is not None and not await _assignable(session, assignee):
                raise invalid_field(
                    "assignee_id", f"agent {assignee} does not exist or cannot take conversations"
                )
            await assign(session, conversation, assignee, now, actor_id=principal.agent_id)
        if status is not None:
            await set_status(
                session,
                conversation,
                ConversationStatus(status),
                now,
                actor_id=principal.agent_id,
            )
        if priority is not None:
            await change_priority(
                session, hub.settings, conversation, priority, now, principal.agent_id
            )
        await session.commit()
        body = conversation_json(conversation)
    return web.json_response(body)


async def get_customer(request: web.Request) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        principal = await authenticate(request, session)
        customer_id = path_id(request, "customer")
        customer = await session.get(Customer, customer_id)
        if customer is None or not await can_see_customer(session, principal, customer_id):
            raise not_found("customer", customer_id)
        identities = list(
            (
                await session.scalars(
                    select(Identity)
                    .where(Identity.customer_id == customer_id)
                    .order_by(Identity.id)
                )
            ).all()
        )
        body = customer_json(customer, identities)
    return web.json_response(body)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/v1/conversations", list_conversations)
    router.add_get("/api/v1/conversations/{id}", get_conversation)
    router.add_patch("/api/v1/conversations/{id}", patch_conversation)
    router.add_get("/api/v1/conversations/{id}/messages", list_messages)
    router.add_post("/api/v1/conversations/{id}/messages", post_message)
    router.add_get("/api/v1/customers/{id}", get_customer)
