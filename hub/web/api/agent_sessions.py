"""An agent's web sessions over the API: list them, sign one out, or sign out everywhere.
Admins may do it for any agent (audited); every agent for themselves."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.audit import record_change
from hub.core.authz import Principal
from hub.core.errors import forbidden, not_found
from hub.core.sessions import end_all_sessions, end_session, sessions_of
from hub.db.models import Agent, Role
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models.sessions import (
    AgentId,
    AgentSession,
    AgentSessionId,
    AgentSessions,
    SignedOut,
)

TAG = "Agents"
OTHERS = "manage another agent's sessions (admins only)"


async def _agent(session: AsyncSession, caller: Principal, agent_id: int) -> Agent:
    if caller.agent_id != agent_id and caller.role != Role.ADMIN:
        raise forbidden(OTHERS)
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise not_found("agent", agent_id)
    return agent


@endpoint(
    "GET",
    "/api/v1/agents/{id}/sessions",
    Doc(
        TAG,
        "An agent's signed-in browsers",
        "listAgentSessions",
        description="Admins see any agent's; everyone else only their own.",
        errors=(401, 403, 404),
    ),
)
async def list_sessions(call: Call, path: AgentId) -> AgentSessions:
    hub = call.hub
    async with hub.db.reader() as session:
        agent = await _agent(session, call.principal, path.id)
        views = await sessions_of(session, agent.id, hub.clock.now())
    return AgentSessions(
        agent_id=agent.id, sessions=[AgentSession.model_validate(view) for view in views]
    )


@endpoint(
    "DELETE",
    "/api/v1/agents/{id}/sessions",
    Doc(
        TAG,
        "Sign an agent out everywhere",
        "endAgentSessions",
        description="Ends every web session of the agent (API tokens are not touched: revoke "
        "them with the CLI). Done by an admin for someone else, it is in the audit log.",
        errors=(401, 403, 404),
    ),
)
async def end_sessions(call: Call, path: AgentId) -> SignedOut:
    hub = call.hub
    async with hub.db.writer() as session:
        agent = await _agent(session, call.principal, path.id)
        ended = await end_all_sessions(
            session, agent, actor_id=call.principal.agent_id, now=hub.clock.now()
        )
        await session.commit()
    return SignedOut(agent_id=path.id, ended=ended)


@endpoint(
    "DELETE",
    "/api/v1/agents/{id}/sessions/{session}",
    Doc(
        TAG,
        "Sign one of an agent's sessions out",
        "endAgentSession",
        ok={204: "Signed out"},
        errors=(401, 403, 404),
        media=None,
    ),
)
async def end_one(call: Call, path: AgentSessionId) -> None:
    caller = call.principal
    async with call.hub.db.writer() as session:
        agent = await _agent(session, caller, path.id)
        if not await end_session(session, agent.id, path.session):
            raise not_found("session", path.session)
        if caller.agent_id != agent.id:
            await record_change(
                session,
                actor_id=caller.agent_id,
                area="agents",
                action="sign_out_session",
                target=agent.email,
                old=f"session {path.session}",
                at=call.hub.clock.now(),
            )
        await session.commit()


ENDPOINTS: tuple[Endpoint, ...] = (list_sessions, end_sessions, end_one)
