"""The live view's line per agent: presence, open load against capacity, when they last
replied, how many conversations they were given today and how long they have been online
today. Supervisors limited to their teams see those teams' members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, type_coerce
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.live import LiveSettings
from hub.db.models import Agent, AgentTeam, Direction, Message, Role
from hub.db.presence_models import AgentAssignment
from hub.reports.live import Scope
from hub.reports.presence import time_online


@dataclass(frozen=True, slots=True)
class AgentLine:
    agent_id: int
    name: str
    email: str
    role: str
    presence: str
    open_count: int
    capacity: int
    last_reply_at: datetime | None
    assigned_today: int
    online_today: timedelta
    team_ids: tuple[int, ...]

    @property
    def load_percent(self) -> int:
        if self.capacity <= 0:
            return 100 if self.open_count else 0
        return round(100 * self.open_count / self.capacity)

    @property
    def over_capacity(self) -> bool:
        return self.open_count >= self.capacity


def start_of_day(now: datetime, timezone: str) -> datetime:
    """Midnight of ``now``'s day in ``timezone``, as an aware datetime."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def agent_lines(
    session: AsyncSession, scope: Scope, settings: LiveSettings, now: datetime
) -> list[AgentLine]:
    memberships: dict[int, list[int]] = {}
    for agent_id, team_id in await session.execute(select(AgentTeam.agent_id, AgentTeam.team_id)):
        memberships.setdefault(agent_id, []).append(team_id)
    query = (
        select(Agent)
        .where(Agent.active.is_(True), Agent.role != Role.MARKETER)
        .order_by(Agent.name, Agent.id)
    )
    agents = [
        agent
        for agent in (await session.scalars(query)).all()
        if scope.team_ids is None or scope.team_ids & set(memberships.get(agent.id, ()))
    ]
    ids = [agent.id for agent in agents]
    if not ids:
        return []
    # One statement: per agent, newest first along ix_messages_author, stopping at the first
    # reply (a correlated subquery each, not a round trip each).
    last_reply = (
        select(Message.created_at)
        .where(
            Message.author_agent_id == Agent.id,
            Message.direction == Direction.OUTBOUND,
            Message.automated.is_(False),
        )
        .order_by(Message.created_at.desc())
        .limit(1)
        .correlate(Agent)
        .scalar_subquery()
    )
    replies = {
        agent_id: when
        for agent_id, when in await session.execute(
            select(Agent.id, type_coerce(last_reply, Message.created_at.type)).where(
                Agent.id.in_(ids)
            )
        )
    }
    today = start_of_day(now, settings.timezone)
    counted = await session.execute(
        select(AgentAssignment.agent_id, func.count())
        .where(AgentAssignment.agent_id.in_(ids), AgentAssignment.assigned_at >= today)
        .group_by(AgentAssignment.agent_id)
    )
    assigned = {agent_id: count for agent_id, count in counted}
    online = await time_online(session, ids, today, today + timedelta(days=1), now=now)
    return [
        AgentLine(
            agent_id=agent.id,
            name=agent.name,
            email=agent.email,
            role=agent.role,
            presence=agent.presence,
            open_count=agent.open_count,
            capacity=agent.capacity,
            last_reply_at=replies.get(agent.id),
            assigned_today=int(assigned.get(agent.id, 0)),
            online_today=online[agent.id],
            team_ids=tuple(sorted(memberships.get(agent.id, ()))),
        )
        for agent in agents
    ]
