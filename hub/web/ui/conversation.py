"""The conversation page: the customer's timeline across every channel (only conversations the
agent may see), the customer panel with duplicates to merge, the reply box and the controls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.agent.merging import default_survivor, history, merge_customers, undo_merge
from hub.agent.replies import reply_routes
from hub.agent.snooze import snoozed_until
from hub.bots.notice import notice_for
from hub.bots.service import shown_state
from hub.config.settings import PRIORITIES
from hub.core.authz import Principal, can_see_customer, conversation_filter, visible_conversation
from hub.core.errors import forbidden, not_found
from hub.db.bots_models import BotSession
from hub.db.inbox_models import ConversationTag, CustomerMerge, Event
from hub.db.models import (
    Conversation,
    Customer,
    Direction,
    DuplicateCandidate,
    Identity,
    Message,
    Ticket,
)
from hub.outbound.compose import reply_problem
from hub.routing.waiting import unassigned_reason
from hub.web.downloads import download_response, load_attachment
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui import collision
from hub.web.ui.mail_html import email_document
from hub.web.ui.render import page, see_other
from hub.web.ui.rows import Directory, load_directory
from hub.web.ui.viewer import viewer_of

TIMELINE_SIZE = 100
PAST_SHOWN = 20  # the customer's other conversations in the side panel, newest first


@dataclass(frozen=True, slots=True)
class Entry:
    message: Message
    author: str
    email_document: str | None
    held_images: int
    other_conversation: Conversation | None


@dataclass(frozen=True, slots=True)
class Candidate:
    customer: Customer
    score: float
    reason: str
    identities: list[Identity]
    conversations: int  # its history: the record with more survives by default
    survives: bool


async def _visible_of_customer(
    session: AsyncSession, principal: Principal, customer_id: int
) -> dict[int, Conversation]:
    """The customer's conversations this agent may see, by id."""
    rows = await session.scalars(
        select(Conversation).where(
            Conversation.customer_id == customer_id, conversation_filter(principal)
        )
    )
    return {c.id: c for c in rows.all()}


async def _timeline(
    session: AsyncSession,
    visible: dict[int, Conversation],
    conversation: Conversation,
    directory: Directory,
    before: int | None,
) -> tuple[list[Entry], int | None]:
    query = select(Message).where(
        Message.customer_id == conversation.customer_id,
        Message.conversation_id.in_(list(visible)),
    )
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(
        (await session.scalars(query.order_by(Message.id.desc()).limit(TIMELINE_SIZE + 1))).all()
    )
    earlier = rows[TIMELINE_SIZE - 1].id if len(rows) > TIMELINE_SIZE else None
    entries = []
    for message in reversed(rows[:TIMELINE_SIZE]):
        document, held = None, 0
        if message.html and message.direction == Direction.INBOUND:
            document, held = email_document(message.html)
        other = visible.get(message.conversation_id)
        entries.append(
            Entry(
                message=message,
                author=directory.agent_name(message.author_agent_id),
                email_document=document,
                held_images=held,
                other_conversation=other if message.conversation_id != conversation.id else None,
            )
        )
    return entries, earlier


async def _candidates(session: AsyncSession, customer_id: int) -> list[Candidate]:
    rows = (
        await session.execute(
            select(DuplicateCandidate, Customer)
            .join(
                Customer,
                or_(
                    and_(
                        DuplicateCandidate.customer_id == customer_id,
                        Customer.id == DuplicateCandidate.candidate_id,
                    ),
                    and_(
                        DuplicateCandidate.candidate_id == customer_id,
                        Customer.id == DuplicateCandidate.customer_id,
                    ),
                ),
            )
            .where(DuplicateCandidate.state == "open", Customer.merged_into_id.is_(None))
            .order_by(DuplicateCandidate.score.desc())
            .limit(10)
        )
    ).all()
    found = []
    current = await session.get(Customer, customer_id)
    assert current is not None
    for candidate, other in rows:
        identities = list(
            (await session.scalars(select(Identity).where(Identity.customer_id == other.id))).all()
        )
        conversations, _ = await history(session, other.id)
        survives = await default_survivor(session, current, other) is other
        found.append(
            Candidate(other, candidate.score, candidate.reason, identities, conversations, survives)
        )
    return found


async def _context(request: web.Request, conversation_id: int) -> dict[str, Any]:
    hub, viewer = hub_of(request), viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("work on conversations")
    before = request.query.get("before", "")
    async with hub.db.reader() as session:
        # Read first: the page's stream replays every event after it, so a change committed
        # while the page renders (a delivery state, say) still reaches it.
        event_id = int(await session.scalar(select(func.max(Event.id))) or 0)
        conversation = await visible_conversation(session, viewer.principal, conversation_id)
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        directory = await load_directory(session)
        visible = await _visible_of_customer(session, viewer.principal, customer.id)
        entries, earlier = await _timeline(
            session, visible, conversation, directory, row_id(before)
        )
        identities = list(
            (
                await session.scalars(
                    select(Identity)
                    .where(Identity.customer_id == customer.id)
                    .order_by(Identity.id)
                )
            ).all()
        )
        past = sorted(
            (c for c in visible.values() if c.id != conversation.id),
            key=lambda c: c.id,
            reverse=True,
        )[:PAST_SHOWN]
        tickets = (
            await session.execute(
                select(Ticket, Conversation.sla_due_at)
                .join(Conversation, Conversation.id == Ticket.conversation_id)
                .where(
                    Conversation.customer_id == customer.id, conversation_filter(viewer.principal)
                )
                .order_by(Ticket.id.desc())
                .limit(20)
            )
        ).all()
        tags = list(
            (
                await session.scalars(
                    select(ConversationTag.tag)
                    .where(ConversationTag.conversation_id == conversation.id)
                    .order_by(ConversationTag.tag)
                )
            ).all()
        )
        merges = list(
            (
                await session.scalars(
                    select(CustomerMerge)
                    .where(
                        CustomerMerge.target_id == customer.id, CustomerMerge.undone_at.is_(None)
                    )
                    .order_by(CustomerMerge.id.desc())
                    .limit(5)
                )
            ).all()
        )
        merged_names: dict[int, str | None] = {}
        if merges:
            sources = [m.source_id for m in merges]
            rows = await session.execute(
                select(Customer.id, Customer.name).where(Customer.id.in_(sources))
            )
            merged_names = {row[0]: row[1] for row in rows}
        # Most conversations never had a bot: one read of its state answers both questions.
        with_bot = await session.get(BotSession, conversation.id) is not None
        return {
            "conversation": conversation,
            "customer": customer,
            "identities": identities,
            "entries": entries,
            "earlier": earlier,
            "past": past,
            "tickets": tickets,
            "ticket": next(
                ((t, due) for t, due in tickets if t.conversation_id == conversation.id), None
            ),
            "tags": tags,
            "candidates": await _candidates(session, customer.id),
            "merges": merges,
            "merged_names": merged_names,
            "directory": directory,
            "routes": await reply_routes(session, hub.settings, conversation),
            "reply_problem": reply_problem(hub.settings, conversation.channel),
            "unassigned_reason": await unassigned_reason(session, conversation),
            "snoozed_until": await snoozed_until(session, conversation.id),
            "bot_state": await shown_state(session, conversation.id) if with_bot else None,
            "bot_notice": await notice_for(session, conversation.id) if with_bot else None,
            "typing": await collision.others(
                session, conversation.id, viewer.agent_id, hub.clock.now()
            ),
            "priorities": PRIORITIES,
            "event_id": event_id,
            "attachment_limits": hub.settings.attachments,
        }


async def show_conversation(request: web.Request) -> web.Response:
    context = await _context(request, path_id(request, "conversation"))
    return page(request, "ui/conversation.html", **context)


async def timeline(request: web.Request) -> web.Response:
    context = await _context(request, path_id(request, "conversation"))
    return page(request, "ui/_live.html", **context)


async def _customer_for_change(
    session: AsyncSession, principal: Principal, customer_id: int
) -> Customer:
    if not principal.handles_conversations:
        raise forbidden("merge customers")
    customer = await session.get(Customer, customer_id)
    if customer is None or not await can_see_customer(session, principal, customer_id):
        raise not_found("customer", customer_id)
    return customer


async def merge(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    raw = str(posted.get("other", ""))
    back = str(posted.get("back", ""))
    async with hub.db.writer() as session:
        target = await _customer_for_change(session, viewer.principal, path_id(request, "customer"))
        other_id = row_id(raw) or 0
        source = await _customer_for_change(session, viewer.principal, other_id)
        chosen = row_id(str(posted.get("survivor", "")))
        survivor = chosen if chosen in (target.id, source.id) else None
        await merge_customers(
            session, target, source, viewer.agent_id, hub.clock.now(), survivor_id=survivor
        )
        await session.commit()
    see_other(back if back.startswith("/ui/") else "/ui/inbox", "merged")


async def undo(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    back = str(posted.get("back", ""))
    merge_id = path_id(request, "merge")
    async with hub.db.writer() as session:
        row = await session.get(CustomerMerge, merge_id)
        if row is None:
            raise not_found("merge", merge_id)
        await _customer_for_change(session, viewer.principal, row.target_id)
        await undo_merge(session, row, hub.clock.now())
        await session.commit()
    see_other(back if back.startswith("/ui/") else "/ui/inbox", "unmerged")


async def attachment(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    message_id = path_id(request, "message")
    index = path_id(request, "attachment", "index")
    async with hub.db.reader() as session:
        download = await load_attachment(session, viewer.principal, message_id, index)
    return download_response(download)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/conversations/{id}", show_conversation)
    router.add_get("/ui/conversations/{id}/live", timeline)
    router.add_post("/ui/customers/{id}/merge", merge)
    router.add_post("/ui/merges/{id}/undo", undo)
    router.add_get("/ui/attachments/{id}/{index}", attachment)
