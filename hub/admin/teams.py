"""Teams as an admin manages them: create (the slug routing rules name is made from the name),
rename, and members added or removed. Audited in the caller's transaction. A team's business
hours and default SLA are set on the SLA pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin import people_texts as texts
from hub.admin.agents import agent_or_404, label
from hub.core.audit import record_change
from hub.db.models import Agent, AgentTeam, Team


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    email: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class TeamView:
    id: int
    slug: str
    name: str
    members: tuple[Member, ...]


def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]
    return slug or "team"


def _name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise texts.invalid("name", texts.NAME_EMPTY)
    if len(name) > texts.MAX_NAME:
        raise texts.invalid("name", texts.NAME_LONG)
    return name


async def team_or_404(session: AsyncSession, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise texts.missing("team", team_id)
    return team


async def list_teams(session: AsyncSession, team_id: int | None = None) -> list[TeamView]:
    query = select(Team).order_by(func.lower(Team.name), Team.id)
    if team_id is not None:
        query = query.where(Team.id == team_id)
    teams = list((await session.scalars(query)).all())
    members: dict[int, list[Member]] = {}
    rows = await session.execute(
        select(AgentTeam.team_id, Agent)
        .join(Agent, Agent.id == AgentTeam.agent_id)
        .order_by(func.lower(Agent.name), Agent.id)
    )
    for owner, agent in rows:
        members.setdefault(owner, []).append(
            Member(agent.id, agent.name, agent.email, agent.role, agent.active)
        )
    return [TeamView(t.id, t.slug, t.name, tuple(members.get(t.id, ()))) for t in teams]


async def view_of(session: AsyncSession, team_id: int) -> TeamView:
    found = await list_teams(session, team_id)
    if not found:
        raise texts.missing("team", team_id)
    return found[0]


async def _unique(session: AsyncSession, name: str, slug: str, team_id: int | None) -> None:
    taken = await session.scalar(
        select(Team.id).where(
            (func.lower(Team.name) == name.lower()) | (Team.slug == slug),
            Team.id != (team_id or 0),
        )
    )
    if taken is not None:
        raise texts.conflict("name", texts.TEAM_TAKEN.format(name=name))


async def create_team(
    session: AsyncSession, actor_id: int, raw_name: str, now: datetime
) -> TeamView:
    name = _name(raw_name)
    slug = slug_of(name)
    await _unique(session, name, slug, None)
    team = Team(slug=slug, name=name)
    session.add(team)
    await session.flush()
    await record_change(
        session,
        actor_id=actor_id,
        area="teams",
        action="create",
        target=name,
        new={"name": name, "slug": slug},
        at=now,
    )
    return await view_of(session, team.id)


async def rename_team(
    session: AsyncSession, actor_id: int, team_id: int, raw_name: str, now: datetime
) -> TeamView:
    """The slug stays: routing rules and settings name the team by it."""
    team = await team_or_404(session, team_id)
    name = _name(raw_name)
    if name != team.name:
        taken = await session.scalar(
            select(Team.id).where(func.lower(Team.name) == name.lower(), Team.id != team.id)
        )
        if taken is not None:
            raise texts.conflict("name", texts.TEAM_TAKEN.format(name=name))
        await record_change(
            session,
            actor_id=actor_id,
            area="teams",
            action="rename",
            target=team.slug,
            old={"name": team.name},
            new={"name": name},
            at=now,
        )
        team.name = name
    await session.flush()
    return await view_of(session, team.id)


async def add_member(
    session: AsyncSession, actor_id: int, team_id: int, agent_id: int, now: datetime
) -> TeamView:
    team = await team_or_404(session, team_id)
    agent = await session.get(Agent, agent_id)
    if agent is None:
        raise texts.invalid("agent_id", texts.AGENT_UNKNOWN.format(ident=agent_id))
    if await session.get(AgentTeam, (agent.id, team.id)) is not None:
        raise texts.conflict(
            "agent_id", texts.MEMBER_ALREADY.format(agent=agent.name, team=team.name)
        )
    session.add(AgentTeam(agent_id=agent.id, team_id=team.id))
    await session.flush()
    await record_change(
        session,
        actor_id=actor_id,
        area="teams",
        action="add_member",
        target=team.name,
        new={"member": label(agent)},
        at=now,
    )
    return await view_of(session, team.id)


async def remove_member(
    session: AsyncSession, actor_id: int, team_id: int, agent_id: int, now: datetime
) -> TeamView:
    team = await team_or_404(session, team_id)
    agent = await agent_or_404(session, agent_id)
    membership = await session.get(AgentTeam, (agent.id, team.id))
    if membership is None:
        raise texts.missing("member", f"{agent.name} of team {team.name}")
    await session.delete(membership)
    await session.flush()
    await record_change(
        session,
        actor_id=actor_id,
        area="teams",
        action="remove_member",
        target=team.name,
        old={"member": label(agent)},
        at=now,
    )
    return await view_of(session, team.id)
