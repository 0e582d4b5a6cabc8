"""The admin console's team page: every team with its members, a form to create one, and per
team a rename and member add / remove. Admins only; a refused change is shown beside its
field, with nothing saved."""

from __future__ import annotations

from aiohttp import web

from hub.admin import teams as service
from hub.admin.roster import list_agents
from hub.core.errors import ApiError
from hub.web.keys import hub_of
from hub.web.requests import path_id, row_id
from hub.web.ui.admin_people import admin, admin_page, text
from hub.web.ui.render import see_other


async def teams_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    failed: int | None = None,
    status: int = 200,
) -> web.Response:
    """``failed``: the team whose form ``errors`` belong to (None: the new team's form)."""
    admin(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        teams = await service.list_teams(session)
        agents = [a for a in await list_agents(session, hub.clock.now()) if a.active]
    return admin_page(
        request,
        "ui/admin/teams.html",
        status=status,
        teams=teams,
        agents=agents,
        errors=errors or {},
        failed=failed,
    )


async def _change(request: web.Request, team_id: int | None, notice: str) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    posted = await request.post()
    now = hub.clock.now()
    try:
        async with hub.db.writer() as session:
            if notice == "team_created":
                await service.create_team(session, viewer.agent_id, text(posted, "name", 400), now)
            elif notice == "team_saved":
                assert team_id is not None
                await service.rename_team(
                    session, viewer.agent_id, team_id, text(posted, "name", 400), now
                )
            else:
                assert team_id is not None
                raw = text(posted, "agent_id", 20)
                agent_id = row_id(raw)
                if agent_id is None:
                    raise ApiError(
                        422, "invalid_field", "agent_id", {"agent_id": "choose an agent"}
                    )
                change = service.add_member if notice == "member_added" else service.remove_member
                await change(session, viewer.agent_id, team_id, agent_id, now)
            await session.commit()
    except ApiError as exc:
        if exc.status == 404 and not exc.fields:
            raise
        return await teams_page(request, errors=exc.fields, failed=team_id, status=exc.status)
    see_other("/ui/admin/teams", notice)


async def create(request: web.Request) -> web.StreamResponse:
    return await _change(request, None, "team_created")


async def rename(request: web.Request) -> web.StreamResponse:
    return await _change(request, path_id(request, "team"), "team_saved")


async def add_member(request: web.Request) -> web.StreamResponse:
    return await _change(request, path_id(request, "team"), "member_added")


async def remove_member(request: web.Request) -> web.StreamResponse:
    return await _change(request, path_id(request, "team"), "member_removed")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin/teams", teams_page)
    router.add_post("/ui/admin/teams", create)
    router.add_post("/ui/admin/teams/{id}", rename)
    router.add_post("/ui/admin/teams/{id}/members", add_member)
    router.add_post("/ui/admin/teams/{id}/members/remove", remove_member)
