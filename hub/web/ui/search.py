"""The search page: messages found by their words, most relevant first, each with its
highlighted snippet and a link into its conversation; narrowed by channel, team, status and
date. Hits come from hub.agent.search, so an agent finds only what the inbox shows them."""

from __future__ import annotations

from datetime import date

from aiohttp import web
from sqlalchemy import select

from hub.agent.search import RANK_WINDOW, SearchFilters, search
from hub.core.errors import forbidden
from hub.db.models import ConversationStatus, Team
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui.render import page
from hub.web.ui.viewer import viewer_of

PAGE = 20
STATUSES = tuple(status.value for status in ConversationStatus)


def _day(raw: str, name: str, problems: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        problems[name] = "must be a date (YYYY-MM-DD)"
        return None


async def search_page(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    if not viewer.principal.handles_conversations:
        raise forbidden("search conversations")
    raw = {key: request.query.get(key, "").strip()[:200] for key in (
        "q", "channel", "team", "status", "since", "until", "offset"
    )}  # fmt: skip
    problems: dict[str, str] = {}
    team_id = row_id(raw["team"]) if raw["team"] else None
    if raw["team"] and team_id is None:
        problems["team"] = "must be a team"
    if raw["status"] and raw["status"] not in STATUSES:
        problems["status"] = "must be one of " + ", ".join(STATUSES)
    if raw["channel"] and raw["channel"] not in hub.settings.channels:
        problems["channel"] = "must be one of the hub's channels"
    offset = row_id(raw["offset"]) if raw["offset"] not in ("", "0") else 0
    if offset is None or offset > RANK_WINDOW:
        problems["offset"] = f"must be a number from 0 to {RANK_WINDOW}"
        offset = 0
    since = _day(raw["since"], "since", problems)
    until = _day(raw["until"], "until", problems)
    filters = SearchFilters.by_days(
        channel=raw["channel"] or None,
        team_id=team_id,
        status=raw["status"] or None,
        since=since,
        until=until,
    )
    async with hub.db.reader() as session:
        teams = list(await session.execute(select(Team.id, Team.name).order_by(Team.name)))
        found = None
        if raw["q"] and not problems:
            found = await search(
                session, viewer.principal, raw["q"], filters, offset=offset, limit=PAGE
            )
    return page(
        request,
        "ui/search.html",
        status=400 if problems else 200,
        form=raw,
        problems=problems,
        found=found,
        offset=offset,
        page_size=PAGE,
        teams=teams,
        channels=sorted(hub.settings.channels),
        statuses=STATUSES,
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/search", search_page)
