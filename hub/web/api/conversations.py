"""The agent API: conversations, messages, customers. Every call is authenticated by bearer token
and authorized against the caller's role and the object it touches (a conversation an agent may
not see answers 404, as if it did not exist)."""

from __future__ import annotations

from sqlalchemy import and_, or_, select

from hub.agent.replies import NoRecipient, add_note, send_reply
from hub.agent.triage import Triage, triage
from hub.core.authz import (
    can_see_customer,
    conversation_filter,
    visible_conversation,
)
from hub.core.errors import invalid_field, not_found
from hub.core.tickets import ticket_for
from hub.db.models import Agent, Conversation, Customer, Identity, Message, Team
from hub.outbound.compose import reply_problem
from hub.platform.events import publish
from hub.routing.waiting import unassigned_reason
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models import conversations as shapes
from hub.web.api.models.conversations import (
    ConversationChange,
    ConversationDetail,
    ConversationId,
    ConversationPage,
    ConversationQuery,
    CustomerId,
    MessagePage,
    MessageQuery,
    NewMessage,
)
from hub.web.requests import decode_cursor, encode_cursor, row_id
from hub.web.uploads import attach_uploads

TAG = "Conversations"


@endpoint(
    "GET",
    "/api/v1/conversations",
    Doc(
        TAG,
        "Conversations the caller may see, most recently active first",
        "listConversations",
        description="Agents see their teams' conversations and those assigned to them; "
        "supervisors and admins see all; marketers may not list. Keyset pagination: pass "
        "next_cursor as ?cursor= until it is null.",
        requires=Requires(lambda caller: caller.handles_conversations, "list conversations"),
        ok={200: "One page"},
        errors=(400, 401, 403),
    ),
)
async def list_conversations(call: Call, query: ConversationQuery) -> ConversationPage:
    principal = call.principal
    async with call.hub.db.reader() as session:
        statement = select(Conversation).where(conversation_filter(principal))
        if query.status is not None:
            statement = statement.where(Conversation.status == query.status)
        if query.assignee == "me":
            statement = statement.where(Conversation.assignee_id == principal.agent_id)
        elif query.assignee == "none":
            statement = statement.where(Conversation.assignee_id.is_(None))
        elif query.assignee is not None:
            statement = statement.where(Conversation.assignee_id == int(query.assignee))
        if query.team is not None:
            team_id = row_id(query.team) or await session.scalar(
                select(Team.id).where(Team.slug == query.team)
            )
            statement = statement.where(Conversation.team_id == (team_id or -1))
        if query.cursor:
            moment, ident = decode_cursor(query.cursor)
            statement = statement.where(
                or_(
                    Conversation.last_activity_at < moment,
                    and_(Conversation.last_activity_at == moment, Conversation.id < ident),
                )
            )
        statement = statement.order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
        rows = list((await session.scalars(statement.limit(query.limit + 1))).all())
    items = rows[: query.limit]
    next_cursor = (
        encode_cursor(items[-1].last_activity_at, items[-1].id) if len(rows) > query.limit else None
    )
    return ConversationPage(
        items=[shapes.Conversation.model_validate(c) for c in items],
        next_cursor=next_cursor,
    )


@endpoint(
    "GET",
    "/api/v1/conversations/{id}",
    Doc(
        TAG,
        "One conversation with its ticket",
        "getConversation",
        ok={200: "The conversation"},
        errors=(401, 404),
    ),
)
async def get_conversation(call: Call, path: ConversationId) -> ConversationDetail:
    async with call.hub.db.reader() as session:
        conversation = await visible_conversation(session, call.principal, path.id)
        ticket = await ticket_for(session, conversation.id)
        problem = reply_problem(call.hub.settings, conversation.channel)
        return ConversationDetail.of(
            conversation,
            ticket,
            reply_problem=problem,
            unassigned_reason=await unassigned_reason(session, conversation),
        )


@endpoint(
    "GET",
    "/api/v1/conversations/{id}/messages",
    Doc(
        TAG,
        "The conversation's messages, notes and events, oldest first",
        "listMessages",
        ok={200: "One page"},
        errors=(400, 401, 404),
    ),
)
async def list_messages(call: Call, path: ConversationId, query: MessageQuery) -> MessagePage:
    async with call.hub.db.reader() as session:
        conversation = await visible_conversation(session, call.principal, path.id)
        rows = list(
            (
                await session.scalars(
                    select(Message)
                    .where(Message.conversation_id == conversation.id, Message.id > query.after)
                    .order_by(Message.id)
                    .limit(query.limit + 1)
                )
            ).all()
        )
    items = rows[: query.limit]
    return MessagePage(
        items=[shapes.Message.model_validate(m) for m in items],
        next_after=items[-1].id if len(rows) > query.limit else None,
    )


@endpoint(
    "POST",
    "/api/v1/conversations/{id}/messages",
    Doc(
        TAG,
        "Reply to the customer, or add a private note",
        "postMessage",
        description="A reply is queued in the outbox and sent through the conversation's "
        "reply channel; delivery_state and delivery_error on the message tell how it went. "
        "Files: upload each with POST /api/v1/uploads and list the ids in attachments; they "
        "go out with the reply (email parts, Telegram documents/photos, base64 in API-channel "
        "callbacks) or stay with the note.",
        ok={201: "The queued reply or the note"},
        errors=(400, 401, 413, 422),
        notes={
            404: "No such conversation (not_found), or an attachments id that does not exist "
            "or was uploaded by someone else (unknown_file)",
            409: "An attachments id is already attached to a message (file_attached)",
        },
    ),
)
async def post_message(call: Call, path: ConversationId, body: NewMessage) -> shapes.Message:
    hub, principal = call.hub, call.principal
    text = body.text or ""
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, principal, path.id)
        agent = await session.get(Agent, principal.agent_id)
        assert agent is not None
        if body.private:
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
        await attach_uploads(session, message, body.attachments, principal.agent_id)
        await publish(session, "message", conversation, now, message_id=message.id)
        await session.commit()
        answer = shapes.Message.model_validate(message)
    hub.dispatcher.wake()
    return answer


@endpoint(
    "PATCH",
    "/api/v1/conversations/{id}",
    Doc(
        TAG,
        "Change status, assignee or priority",
        "updateConversation",
        description="Agents may assign a conversation to themselves or unassign "
        "themselves; assigning anyone else needs a supervisor or admin.",
        ok={200: "The changed conversation"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def patch_conversation(
    call: Call, path: ConversationId, body: ConversationChange
) -> shapes.Conversation:
    hub, principal = call.hub, call.principal
    change = Triage(
        status=body.status,
        priority=body.priority,
        reassign="assignee_id" in body.model_fields_set,
        assignee_id=body.assignee_id,
    )
    async with hub.db.writer() as session:
        conversation = await visible_conversation(session, principal, path.id)
        await triage(session, hub.settings, principal, conversation, change, hub.clock.now())
        await session.commit()
        return shapes.Conversation.model_validate(conversation)


@endpoint(
    "GET",
    "/api/v1/customers/{id}",
    Doc(
        "Customers",
        "A customer with all identities",
        "getCustomer",
        ok={200: "The customer"},
        errors=(401, 404),
    ),
)
async def get_customer(call: Call, path: CustomerId) -> shapes.Customer:
    async with call.hub.db.reader() as session:
        customer = await session.get(Customer, path.id)
        if customer is None or not await can_see_customer(session, call.principal, path.id):
            raise not_found("customer", path.id)
        identities = (
            await session.scalars(
                select(Identity).where(Identity.customer_id == path.id).order_by(Identity.id)
            )
        ).all()
        return shapes.Customer.of(customer, identities)


ENDPOINTS: tuple[Endpoint, ...] = (
    list_conversations,
    get_conversation,
    patch_conversation,
    list_messages,
    post_message,
    get_customer,
)
