"""The live operations view for supervisors and admins: ``/ui/live`` shows per team and per
channel the open, unassigned and waiting conversations, the longest wait and the SLA at risk or
breached (each number links to its conversations), and a line per agent; the figures fragment
is fetched again whenever the live stream brings an event. A supervisor reassigns a
conversation from the view (the same triage as everywhere: role, object, CSRF)."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub.agent.triage import Triage, triage
from hub.core.errors import invalid_field, invalid_query, not_found
from hub.db.models import Agent, Conversation, Role, Team
from hub.platform.events import publish
from hub.reports.live import NO_TEAM_KEY, Scope, live_conversations, live_figures, live_scope
from hub.reports.live_agents import agent_lines
from hub.reports.live_texts import FIGURES, NO_TEAM, unknown_figure
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui.render import back_to, page, see_other
from hub.web.ui.viewer import viewer_of

WAITING_SHOWN = 10


def _scope(request: web.Request) -> Scope:
    return live_scope(viewer_of(request).principal, hub_of(request).settings.live)


async def _context(request: web.Request) -> dict[str, Any]:
    hub, scope = hub_of(request), _scope(request)
    now = hub.clock.now()
    live = hub.settings.live
    async with hub.db.reader() as session:
        figures = await live_figures(
            session, scope, live, now, tuple(sorted(hub.settings.channels))
        )
        agents = await agent_lines(session, scope, live, now)
        waiting = await live_conversations(
            session, scope, live, now, figure="waiting_us", limit=WAITING_SHOWN
        )
        team_names = {key: name for key, name in await session.execute(select(Team.id, Team.name))}
    return {
        "figures": figures,
        "agents": agents,
        "waiting": waiting,
        "figure_names": FIGURES,
        "team_names": team_names,
        "agent_names": {line.agent_id: line.name for line in agents},
        "risk_minutes": live.sla_risk_minutes,
        "scope_teams": scope.team_ids,
        "generated": now,
    }


async def show_live(request: web.Request) -> web.Response:
    return page(request, "ui/live.html", **await _context(request))


async def live_fragment(request: web.Request) -> web.Response:
    return page(request, "ui/_live_figures.html", **await _context(request))


async def show_conversations(request: web.Request) -> web.Response:
    hub, scope = hub_of(request), _scope(request)
    figure = request.query.get("figure", "open")
    if figure not in FIGURES:
        raise unknown_figure()
    team = request.query.get("team", "")
    if team and team != NO_TEAM_KEY and row_id(team) is None:
        raise invalid_query("team", "must be a team id or none")
    channel = request.query.get("channel", "")[:64]
    now = hub.clock.now()
    async with hub.db.reader() as session:
        rows = await live_conversations(
            session, scope, hub.settings.live, now, figure=figure, team=team, channel=channel
        )
        agents = await agent_lines(session, scope, hub.settings.live, now)
        team_names = {key: name for key, name in await session.execute(select(Team.id, Team.name))}
    where = []
    if team:
        where.append(team_names.get(int(team), NO_TEAM) if team != NO_TEAM_KEY else NO_TEAM)
    if channel:
        where.append(channel)
    return page(
        request,
        "ui/live_conversations.html",
        rows=rows,
        agents=agents,
        agent_names={line.agent_id: line.name for line in agents},
        team_names=team_names,
        figure=figure,
        figure_label=FIGURES[figure],
        where=" · ".join(where) or "All",
        back=request.path_qs,
    )


async def reassign(request: web.Request) -> web.StreamResponse:
    """Give the conversation to the chosen agent (or nobody) as the signed-in supervisor."""
    hub, viewer = hub_of(request), viewer_of(request)
    scope = _scope(request)
    conversation_id = path_id(request, "conversation")
    posted = await request.post()
    raw = str(posted.get("agent", ""))
    now = hub.clock.now()
    async with hub.db.writer() as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or not scope.allows_team(conversation.team_id):
            raise not_found("conversation", conversation_id)
        target = None
        if raw not in ("", "none"):
            agent_id = row_id(raw)
            agent = await session.get(Agent, agent_id) if agent_id is not None else None
            if agent is None or not agent.active or agent.role == Role.MARKETER:
                raise invalid_field("agent", f"agent {raw} does not exist or cannot take work")
            target = agent.id
        previous = conversation.assignee_id
        change = Triage(reassign=True, assignee_id=target)
        await triage(session, hub.settings, viewer.principal, conversation, change, now)
        await publish(session, "assignment", conversation, now, agent_ids=[previous])
        await session.commit()
    hub.events.wake()
    see_other(back_to(str(posted.get("back", "")), "/ui/live"), "assigned")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/live", show_live)
    router.add_get("/ui/live/figures", live_fragment)
    router.add_get("/ui/live/conversations", show_conversations)
    router.add_post("/ui/live/conversations/{id}/assign", reassign)
