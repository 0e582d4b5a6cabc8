"""The inbox page, its live-refreshed list fragment, and bulk actions."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import ScalarSelect, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import PRIORITIES
from hub.core.authz import Principal, conversation_filter
from hub.core.errors import forbidden
from hub.db.inbox_models import Mention
from hub.db.models import Conversation, ConversationStatus
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui import actions
from hub.web.ui.inbox_query import (
    SLA_STATES,
    SORTS,
    STATUSES,
    VIEWS,
    InboxFilter,
    fetch_page,
)
from hub.web.ui.render import page, see_other
from hub.web.ui.rows import load_directory, load_rows
from hub.web.ui.viewer import viewer_of

COUNT_CAP = 999


def _capped_count(ids: Select[Any]) -> ScalarSelect[int]:
    return select(func.count()).select_from(ids.limit(COUNT_CAP + 1).subquery()).scalar_subquery()


async def _counts(session: AsyncSession, principal: Principal) -> dict[str, int]:
    """The open conversations of the side views, counted up to the cap, in one statement.
    Whoever works in the inbox may see what is assigned to them and where they are
    mentioned, so those two counts leave the visibility condition out: with it, SQLite
    walked every open conversation (5 ms each at 45,000 open) instead of the assignee index
    or the agent's mentions."""
    is_open = Conversation.status == ConversationStatus.OPEN
    mine = select(Conversation.id).where(Conversation.assignee_id == principal.agent_id, is_open)
    unassigned = select(Conversation.id).where(
        conversation_filter(principal), Conversation.assignee_id.is_(None), is_open
    )
    mentions = (
        select(Mention.conversation_id)
        .distinct()
        .join(Conversation, Conversation.id == Mention.conversation_id)
        .where(Mention.agent_id == principal.agent_id, is_open)
    )
    row = (
        await session.execute(
            select(_capped_count(mine), _capped_count(unassigned), _capped_count(mentions))
        )
    ).one()
    return {"mine": int(row[0] or 0), "unassigned": int(row[1] or 0), "mentions": int(row[2] or 0)}


async def _list_context(request: web.Request, session: AsyncSession) -> dict[str, Any]:
    hub, viewer = hub_of(request), viewer_of(request)
    principal = viewer.principal
    if not principal.handles_conversations:
        raise forbidden("work in the inbox")
    inbox = InboxFilter.from_query(request.query, principal)
    found = await fetch_page(session, inbox, principal, hub.clock.now())
    directory = await load_directory(session)
    rows = await load_rows(session, found.rows, directory)
    return {"inbox": inbox, "rows": rows, "next_after": found.next_after, "directory": directory}


async def show_inbox(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    async with hub.db.reader() as session:
        context = await _list_context(request, session)
        counts = await _counts(session, viewer.principal)
    views = {
        key: label
        for key, label in VIEWS.items()
        if key != "all" or viewer.principal.handles_conversations
    }
    return page(
        request,
        "ui/inbox.html",
        views=views,
        counts=counts,
        statuses=STATUSES,
        sorts=SORTS,
        sla_states=SLA_STATES,
        priorities=PRIORITIES,
        channels=sorted(hub.settings.channels),
        count_cap=COUNT_CAP,
        **context,
    )


async def inbox_rows(request: web.Request) -> web.Response:
    async with hub_of(request).db.reader() as session:
        context = await _list_context(request, session)
    return page(request, "ui/_rows.html", **context)


async def bulk(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    raw_ids = [str(v) for v in posted.getall("ids", [])]
    ids = [ident for v in raw_ids if (ident := row_id(v)) is not None]
    action = str(posted.get("action", ""))
    await actions.apply_bulk(request, ids, action, str(posted.get("value", "")))
    back = str(posted.get("back", ""))
    see_other(back if back.startswith("/ui/inbox") else "/ui/inbox", "bulk")


async def home(request: web.Request) -> web.StreamResponse:
    see_other(viewer_of(request).home)


async def root(_request: web.Request) -> web.StreamResponse:
    """The bare address: /ui sends people home, or to sign-in."""
    see_other("/ui")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", root)
    router.add_get("/ui", home)
    router.add_get("/ui/", home)
    router.add_get("/ui/inbox", show_inbox)
    router.add_get("/ui/inbox/rows", inbox_rows)
    router.add_post("/ui/inbox/bulk", bulk)
