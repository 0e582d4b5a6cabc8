"""The admin console's agent API (admins only): list, invite, edit, deactivate, reactivate,
reset the password by one-time link, and the agent's API tokens (listed, revocable). Every
change is audited; a refused one answers naming the field, with nothing saved."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from hub.admin import lifecycle
from hub.admin import people_texts as texts
from hub.admin.agents import AgentFields, PeopleContext, invite, update_agent
from hub.admin.roster import AgentView, list_agents, view_of
from hub.core.authz import Principal
from hub.core.staff import token_digest
from hub.db.models import Role
from hub.web.api.edge import Call, Doc, Endpoint, Reply, Requires, endpoint
from hub.web.api.models import admin_people as shapes
from hub.web.auth import bearer_token

TAG = "Admin: agents"
CHANGE_ERRORS = (400, 401, 403, 404, 413, 422)


def is_admin(caller: Principal) -> bool:
    return caller.role == Role.ADMIN


ADMINS = Requires(is_admin, texts.ADMINS_ONLY)


def agent_answer(view: AgentView) -> shapes.AdminAgent:
    return shapes.AdminAgent(
        id=view.id,
        email=view.email,
        name=view.name,
        role=view.role,
        state=view.state,
        presence=view.presence,
        capacity=view.capacity,
        open_count=view.open_count,
        skills=list(view.skills),
        teams=[shapes.TeamRef(id=t.id, name=t.name) for t in view.teams],
        created_at=view.created_at,
        pending_link=view.pending_link,
    )


def token_answer(token: lifecycle.TokenView) -> shapes.ApiTokenInfo:
    return shapes.ApiTokenInfo(
        id=token.id,
        agent_id=token.agent_id,
        label=token.label,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


def _context(call: Call) -> PeopleContext:
    return PeopleContext.of(call.hub.settings, call.hub.channels)


def _wake(call: Call, agent_id: int | None = None) -> None:
    hub = call.hub
    hub.routing.jobs.wake()
    hub.events.wake()
    hub.dispatcher.wake()
    if agent_id is not None:
        hub.presence.forget(agent_id)


@endpoint(
    "GET",
    "/api/v1/admin/agents",
    Doc(
        TAG,
        "Every agent: active first, then by name",
        "adminListAgents",
        requires=ADMINS,
        errors=(401, 403),
    ),
)
async def list_all(call: Call) -> shapes.AdminAgents:
    async with call.hub.db.reader() as session:
        found = await list_agents(session, call.hub.clock.now())
    return shapes.AdminAgents(items=[agent_answer(a) for a in found])


@endpoint(
    "POST",
    "/api/v1/admin/agents",
    Doc(
        TAG,
        "Invite an agent (or create one with a password)",
        "adminInviteAgent",
        description="The answer carries the one-time link to choose a password; it is also "
        "mailed through the first email channel. An unknown team id is 422 naming teams.",
        requires=ADMINS,
        ok={201: "The new agent and their link"},
        errors=(400, 401, 403, 413, 422),
        notes={409: "An agent with this email exists (conflict, field email)"},
    ),
)
async def create(call: Call, body: shapes.NewAgent) -> Reply[shapes.Invitation]:
    hub = call.hub
    fields = AgentFields(
        name=body.name,
        role=body.role,
        team_ids=tuple(body.teams),
        capacity=body.capacity,
        skills=tuple(body.skills),
    )
    try:
        async with hub.db.writer() as session:
            invited = await invite(
                session,
                _context(call),
                call.principal.agent_id,
                body.email,
                fields,
                hub.clock.now(),
                password=body.password,
            )
            await session.commit()
    except IntegrityError:
        raise texts.conflict("email", texts.EMAIL_TAKEN.format(email=body.email)) from None
    _wake(call)
    answer = shapes.Invitation(
        agent=agent_answer(invited.agent), link=invited.link, mailed_to=invited.mailed_to
    )
    return Reply(answer, 201)


@endpoint(
    "GET",
    "/api/v1/admin/agents/{id}",
    Doc(TAG, "One agent", "adminGetAgent", requires=ADMINS, errors=(401, 403, 404)),
)
async def get_one(call: Call, path: shapes.AgentId) -> shapes.AdminAgent:
    async with call.hub.db.reader() as session:
        return agent_answer(await view_of(session, path.id, call.hub.clock.now()))


@endpoint(
    "PATCH",
    "/api/v1/admin/agents/{id}",
    Doc(
        TAG,
        "Change an agent's name, role, teams, capacity or skills",
        "adminUpdateAgent",
        requires=ADMINS,
        errors=CHANGE_ERRORS,
        notes={409: "The change would leave no active admin (refused, field role)"},
    ),
)
async def update(call: Call, path: shapes.AgentId, body: shapes.AgentChange) -> shapes.AdminAgent:
    hub = call.hub
    fields = AgentFields(
        name=body.name,
        role=body.role,
        team_ids=tuple(body.teams) if body.teams is not None else None,
        capacity=body.capacity,
        skills=tuple(body.skills) if body.skills is not None else None,
    )
    async with hub.db.writer() as session:
        view = await update_agent(
            session, call.principal.agent_id, path.id, fields, hub.clock.now()
        )
        await session.commit()
    _wake(call, path.id)
    return agent_answer(view)


@endpoint(
    "POST",
    "/api/v1/admin/agents/{id}/deactivate",
    Doc(
        TAG,
        "Deactivate an agent",
        "adminDeactivateAgent",
        description="They cannot sign in; their browser sessions end, their API tokens are "
        "revoked and their open conversations go back through routing. History is kept.",
        requires=ADMINS,
        errors=(401, 403, 404),
        notes={409: "Already deactivated, oneself, or the last active admin"},
    ),
)
async def deactivate(call: Call, path: shapes.AgentId) -> shapes.Deactivation:
    hub = call.hub
    async with hub.db.writer() as session:
        done = await lifecycle.deactivate(
            session, _context(call), call.principal.agent_id, path.id, hub.clock.now()
        )
        await session.commit()
    _wake(call, path.id)
    return shapes.Deactivation(
        agent_id=done.agent_id,
        rerouted=done.rerouted,
        queued=done.queued,
        tokens_revoked=done.tokens_revoked,
        sessions_ended=done.sessions_ended,
    )


@endpoint(
    "POST",
    "/api/v1/admin/agents/{id}/reactivate",
    Doc(
        TAG,
        "Reactivate an agent (their old password works again; tokens stay revoked)",
        "adminReactivateAgent",
        requires=ADMINS,
        errors=(401, 403, 404),
        notes={409: "Already active"},
    ),
)
async def reactivate(call: Call, path: shapes.AgentId) -> shapes.AdminAgent:
    hub = call.hub
    async with hub.db.writer() as session:
        await lifecycle.reactivate(session, call.principal.agent_id, path.id, hub.clock.now())
        view = await view_of(session, path.id, hub.clock.now())
        await session.commit()
    return agent_answer(view)


@endpoint(
    "POST",
    "/api/v1/admin/agents/{id}/password-reset",
    Doc(
        TAG,
        "A one-time link for the agent to choose a new password",
        "adminResetPassword",
        description="Mailed to the agent and in the answer; older links stop working.",
        requires=ADMINS,
        errors=(401, 403, 404),
        notes={409: "The agent is deactivated"},
    ),
)
async def reset(call: Call, path: shapes.AgentId) -> shapes.ResetLink:
    hub = call.hub
    async with hub.db.writer() as session:
        link = await lifecycle.reset_password(
            session, _context(call), call.principal.agent_id, path.id, hub.clock.now()
        )
        await session.commit()
    _wake(call)
    return shapes.ResetLink(
        agent_id=link.agent_id, link=link.link, expires_at=link.expires_at, mailed_to=link.mailed_to
    )


@endpoint(
    "GET",
    "/api/v1/admin/agents/{id}/tokens",
    Doc(
        TAG,
        "An agent's API tokens, newest first",
        "adminListTokens",
        requires=ADMINS,
        errors=(401, 403, 404),
    ),
)
async def tokens(call: Call, path: shapes.AgentId) -> shapes.ApiTokens:
    async with call.hub.db.reader() as session:
        found = await lifecycle.list_tokens(session, path.id)
    return shapes.ApiTokens(items=[token_answer(t) for t in found])


@endpoint(
    "POST",
    "/api/v1/admin/agents/{id}/tokens/{token_id}/revoke",
    Doc(
        TAG,
        "Revoke an API token",
        "adminRevokeToken",
        requires=ADMINS,
        errors=(401, 403, 404),
        notes={409: "Already revoked, or the token this request is made with"},
    ),
)
async def revoke(call: Call, path: shapes.AgentTokenId) -> shapes.ApiTokenInfo:
    hub = call.hub
    calling = token_digest(bearer_token(call.request))
    async with hub.db.writer() as session:
        token = await lifecycle.revoke_token(
            session,
            call.principal.agent_id,
            path.id,
            path.token_id,
            hub.clock.now(),
            calling_hash=calling,
        )
        await session.commit()
    return token_answer(token)


ENDPOINTS: tuple[Endpoint, ...] = (
    list_all,
    create,
    get_one,
    update,
    deactivate,
    reactivate,
    reset,
    tokens,
    revoke,
)
