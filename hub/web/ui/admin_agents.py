"""The admin console's agent pages: the list with the invitation form, one agent's page (edit
name, role, teams, capacity and skills; reset the password by link; deactivate or reactivate;
their API tokens, revocable), and the deactivation's confirmation. Admins only; a refused
change is shown beside its field, with nothing saved."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hub.admin import lifecycle
from hub.admin import people_texts as texts
from hub.admin.agents import AgentFields, Invited, check_fields, invite, update_agent
from hub.admin.roster import list_agents, view_of
from hub.admin.teams import list_teams
from hub.core.conversations import ACTIVE
from hub.core.errors import ApiError
from hub.db.models import Conversation
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.admin_people import (
    Posted,
    admin,
    admin_page,
    context_of,
    fields_of,
    text,
    wake,
)
from hub.web.ui.render import see_other

EMPTY_FORM = {"email": "", "name": "", "role": "agent", "capacity": "10", "skills": ""}


async def _read(
    request: web.Request, posted: Posted
) -> tuple[AgentFields, dict[str, object], dict[str, str]]:
    """The agent form's fields, the values to show again, and every problem (a number that
    is not one, and what the service would refuse) when there is one."""
    errors: dict[str, str] = {}
    fields = fields_of(posted, errors)
    form: dict[str, object] = {
        "email": text(posted, "email", 320),
        "name": fields.name,
        "role": fields.role,
        "capacity": text(posted, "capacity", 20),
        "skills": text(posted, "skills", 4000),
        "teams": list(fields.team_ids or ()),
    }
    if errors:
        async with hub_of(request).db.reader() as session:
            errors = await check_fields(session, fields) | errors
    return fields, form, errors


async def agents_page(
    request: web.Request,
    *,
    errors: dict[str, str] | None = None,
    form: Mapping[str, object] | None = None,
    status: int = 200,
) -> web.Response:
    admin(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        agents = await list_agents(session, hub.clock.now())
        teams = await list_teams(session)
    return admin_page(
        request,
        "ui/admin/agents.html",
        status=status,
        agents=agents,
        teams=teams,
        roles=texts.ROLES,
        errors=errors or {},
        form=form or dict(EMPTY_FORM, teams=[]),
        mail=context_of(request).mail_channel,
    )


async def create(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    posted = await request.post()
    fields, form, errors = await _read(request, posted)
    if errors:
        return await agents_page(request, errors=errors, form=form, status=422)
    try:
        async with hub.db.writer() as session:
            invited = await invite(
                session,
                context_of(request),
                viewer.agent_id,
                text(posted, "email", 320),
                fields,
                hub.clock.now(),
                password=text(posted, "password", 1024) or None,
            )
            await session.commit()
    except ApiError as exc:
        return await agents_page(request, errors=exc.fields, form=form, status=exc.status)
    except IntegrityError:  # the same address, added at the same moment
        problem = texts.EMAIL_TAKEN.format(email=form["email"])
        return await agents_page(request, errors={"email": problem}, form=form, status=409)
    wake(request)
    if invited.link is None:
        see_other(f"/ui/admin/agents/{invited.agent.id}", "saved")
    return await agent_page(request, invited.agent.id, invited=invited, status=201)


async def agent_page(
    request: web.Request,
    agent_id: int | None = None,
    *,
    invited: Invited | None = None,
    reset: lifecycle.ResetLink | None = None,
    errors: dict[str, str] | None = None,
    form: Mapping[str, object] | None = None,
    status: int = 200,
) -> web.Response:
    viewer = admin(request)
    hub = hub_of(request)
    ident = agent_id if agent_id is not None else path_id(request, "agent")
    async with hub.db.reader() as session:
        agent = await view_of(session, ident, hub.clock.now())
        tokens = await lifecycle.list_tokens(session, ident)
        teams = await list_teams(session)
    return admin_page(
        request,
        "ui/admin/agent.html",
        status=status,
        agent=agent,
        tokens=tokens,
        teams=teams,
        roles=texts.ROLES,
        invited=invited,
        reset=reset,
        errors=errors or {},
        is_me=agent.id == viewer.agent_id,
        form=form
        or {
            "name": agent.name,
            "role": agent.role,
            "capacity": agent.capacity,
            "skills": ", ".join(agent.skills),
            "teams": [team.id for team in agent.teams],
        },
        no_mail=texts.NO_MAIL_CHANNEL,
    )


async def save(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "agent")
    posted = await request.post()
    fields, form, errors = await _read(request, posted)
    if errors:
        return await agent_page(request, ident, errors=errors, form=form, status=422)
    try:
        async with hub.db.writer() as session:
            await update_agent(session, viewer.agent_id, ident, fields, hub.clock.now())
            await session.commit()
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await agent_page(request, ident, errors=exc.fields, form=form, status=exc.status)
    wake(request, ident)
    see_other(f"/ui/admin/agents/{ident}", "saved")


async def confirm_deactivate(request: web.Request) -> web.Response:
    admin(request)
    hub = hub_of(request)
    ident = path_id(request, "agent")
    async with hub.db.reader() as session:
        agent = await view_of(session, ident, hub.clock.now())
        held = await session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.assignee_id == ident, Conversation.status.in_(ACTIVE))
        )
        tokens = [t for t in await lifecycle.list_tokens(session, ident) if t.revoked_at is None]
    return admin_page(
        request, "ui/admin/agent_deactivate.html", agent=agent, held=held or 0, tokens=tokens
    )


async def _lifecycle(request: web.Request, action: str) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "agent")
    reset = None
    try:
        async with hub.db.writer() as session:
            now = hub.clock.now()
            if action == "deactivated":
                await lifecycle.deactivate(
                    session, context_of(request), viewer.agent_id, ident, now
                )
            elif action == "reactivated":
                await lifecycle.reactivate(session, viewer.agent_id, ident, now)
            else:
                reset = await lifecycle.reset_password(
                    session, context_of(request), viewer.agent_id, ident, now
                )
            await session.commit()
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await agent_page(request, ident, errors=exc.fields, status=exc.status)
    wake(request, ident)
    if reset is not None:
        return await agent_page(request, ident, reset=reset)
    see_other(f"/ui/admin/agents/{ident}", action)


async def deactivate(request: web.Request) -> web.StreamResponse:
    return await _lifecycle(request, "deactivated")


async def reactivate(request: web.Request) -> web.StreamResponse:
    return await _lifecycle(request, "reactivated")


async def reset_password(request: web.Request) -> web.StreamResponse:
    return await _lifecycle(request, "reset")


async def revoke_token(request: web.Request) -> web.StreamResponse:
    viewer = admin(request)
    hub = hub_of(request)
    ident = path_id(request, "agent")
    token_id = path_id(request, "API token", "token")
    try:
        async with hub.db.writer() as session:
            await lifecycle.revoke_token(session, viewer.agent_id, ident, token_id, hub.clock.now())
            await session.commit()
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await agent_page(request, ident, errors=exc.fields, status=exc.status)
    see_other(f"/ui/admin/agents/{ident}", "revoked")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/admin/agents", agents_page)
    router.add_post("/ui/admin/agents", create)
    router.add_get("/ui/admin/agents/{id}", agent_page)
    router.add_post("/ui/admin/agents/{id}", save)
    router.add_get("/ui/admin/agents/{id}/deactivate", confirm_deactivate)
    router.add_post("/ui/admin/agents/{id}/deactivate", deactivate)
    router.add_post("/ui/admin/agents/{id}/reactivate", reactivate)
    router.add_post("/ui/admin/agents/{id}/reset", reset_password)
    router.add_post("/ui/admin/agents/{id}/tokens/{token}/revoke", revoke_token)
