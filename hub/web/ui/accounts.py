"""Agent accounts in the web app: admins create agents and reset passwords (which ends the
agent's sessions), and every agent sets their own presence, which routing reads. Going offline
keeps assigned conversations where they are; routing only stops giving new ones."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from hub.core.errors import UI_PASSWORD_MISMATCH, forbidden, invalid_field
from hub.core.staff import StaffError, add_agent, set_password
from hub.db.models import Agent, AgentTeam, Presence, Role, Team
from hub.reports.presence import change_presence
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of


def _admin_only(request: web.Request) -> None:
    if not viewer_of(request).is_admin:
        raise forbidden("manage agents")


async def list_agents(request: web.Request) -> web.Response:
    _admin_only(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        agents = list((await session.scalars(select(Agent).order_by(Agent.name))).all())
        teams = list((await session.scalars(select(Team).order_by(Team.name))).all())
        memberships: dict[int, list[str]] = {}
        names = {team.id: team.name for team in teams}
        for agent_id, team_id in await session.execute(
            select(AgentTeam.agent_id, AgentTeam.team_id)
        ):
            memberships.setdefault(agent_id, []).append(names.get(team_id, ""))
    return page(
        request,
        "ui/agents.html",
        agents=agents,
        teams=teams,
        memberships=memberships,
        roles=[role.value for role in Role],
    )


async def create_agent(request: web.Request) -> web.StreamResponse:
    _admin_only(request)
    hub = hub_of(request)
    posted = await request.post()
    role = str(posted.get("role", "agent"))
    if role not in {r.value for r in Role}:
        raise invalid_field("role", "must be one of " + ", ".join(r.value for r in Role))
    password = str(posted.get("password", ""))
    async with hub.db.writer() as session:
        slugs = []
        for raw in map(str, posted.getall("team", [])):
            team = await session.get(Team, ident) if (ident := row_id(raw)) is not None else None
            if team is not None:
                slugs.append(team.slug)
        try:
            await add_agent(
                session,
                email=str(posted.get("email", "")),
                name=str(posted.get("name", ""))[:200],
                role=Role(role),
                now=hub.clock.now(),
                password=password or None,
                teams=tuple(slugs),
            )
        except StaffError as exc:
            raise invalid_field("agent", str(exc)) from None
        await session.commit()
    see_other("/ui/admin/agents", "agent")


async def reset_password(request: web.Request) -> web.StreamResponse:
    _admin_only(request)
    hub = hub_of(request)
    posted = await request.post()
    password = str(posted.get("password", ""))
    if password != str(posted.get("confirm", "")):
        raise invalid_field("confirm", UI_PASSWORD_MISMATCH)
    async with hub.db.writer() as session:
        agent = await session.get(Agent, path_id(request, "agent"))
        if agent is None:
            raise invalid_field("agent", "no such agent")
        try:
            await set_password(session, agent, password)
        except StaffError as exc:
            raise invalid_field("password", str(exc)) from None
        await session.commit()
    see_other("/ui/admin/agents", "password")


async def set_presence(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    presence = str(posted.get("presence", ""))
    if presence not in {p.value for p in Presence}:
        raise invalid_field("presence", "must be one of online, away, offline")
    async with hub.db.writer() as session:
        agent = await session.get(Agent, viewer.agent_id)
        assert agent is not None
        await change_presence(session, agent, presence, hub.clock.now(), chosen=True)
        await session.commit()
    hub.presence.forget(viewer.agent_id)
    hub.events.wake()
    back = str(posted.get("back", ""))
    see_other(back if back.startswith("/ui/") else "/ui/inbox", "presence")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin/agents", list_agents)
    router.add_post("/ui/admin/agents", create_agent)
    router.add_post("/ui/admin/agents/{id}/password", reset_password)
    router.add_post("/ui/presence", set_presence)
