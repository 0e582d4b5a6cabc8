"""The agents as the admin console lists them: each with their state (active, invited,
deactivated), teams, load and whether a password link of theirs still works."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import people_texts as texts
from hub.admin.password_links import pending_purposes
from hub.db.models import Agent, AgentTeam, Team


@dataclass(frozen=True, slots=True)
class TeamRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class AgentView:
    id: int
    email: str
    name: str
    role: str
    state: str  # active, invited (no password yet), deactivated
    active: bool
    presence: str
    capacity: int
    open_count: int
    skills: tuple[str, ...]
    teams: tuple[TeamRef, ...]
    created_at: datetime
    pending_link: str | None  # invite or reset: a link that still works


def _state(agent: Agent, link: str | None) -> str:
    if not agent.active:
        return "deactivated"
    return "invited" if agent.password_hash is None and link == "invite" else "active"


async def list_agents(
    session: AsyncSession, now: datetime, agent_id: int | None = None
) -> list[AgentView]:
    query = select(Agent).order_by(Agent.active.desc(), func.lower(Agent.name), Agent.id)
    if agent_id is not None:
        query = query.where(Agent.id == agent_id)
    agents = list((await session.scalars(query)).all())
    teams: dict[int, list[TeamRef]] = {}
    member_rows = await session.execute(
        select(AgentTeam.agent_id, Team.id, Team.name)
        .join(Team, Team.id == AgentTeam.team_id)
        .order_by(Team.name)
    )
    for member, team_id, name in member_rows:
        teams.setdefault(member, []).append(TeamRef(team_id, name))
    links = await pending_purposes(session, now)
    return [
        AgentView(
            id=a.id,
            email=a.email,
            name=a.name,
            role=a.role,
            state=_state(a, links.get(a.id)),
            active=a.active,
            presence=a.presence,
            capacity=a.capacity,
            open_count=a.open_count,
            skills=tuple(a.skills or ()),
            teams=tuple(teams.get(a.id, ())),
            created_at=a.created_at,
            pending_link=links.get(a.id),
        )
        for a in agents
    ]


async def view_of(session: AsyncSession, agent_id: int, now: datetime) -> AgentView:
    found = await list_agents(session, now, agent_id)
    if not found:
        raise texts.missing("agent", agent_id)
    return found[0]
