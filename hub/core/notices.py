"""Notices for staff: a template that failed goes to the admin who saved it (or every admin),
an SLA warning to the assignee, an escalation to the team's supervisors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.transaction_memo import memo
from hub.db.models import Agent, AgentTeam, Role
from hub.db.routing_models import AdminNotice


def notify(
    session: AsyncSession,
    agent_id: int | None,
    kind: str,
    text: str,
    now: datetime,
    conversation_id: int | None = None,
) -> None:
    session.add(
        AdminNotice(
            agent_id=agent_id,
            kind=kind,
            text=text,
            conversation_id=conversation_id,
            created_at=now,
        )
    )


async def supervisors(session: AsyncSession, team_id: int | None) -> list[int]:
    """Supervisors of the team; every supervisor when the team has none. Read once per team
    and transaction (a group of notices shares the answer)."""
    known: dict[int | None, list[int]] = memo(session).setdefault("supervisors", {})
    found = known.get(team_id)
    if found is None:
        found = known[team_id] = await _supervisors(session, team_id)
    return list(found)


async def _supervisors(session: AsyncSession, team_id: int | None) -> list[int]:
    query = select(Agent.id).where(Agent.role == Role.SUPERVISOR, Agent.active.is_(True))
    if team_id is not None:
        own = list(
            (
                await session.scalars(
                    query.join(AgentTeam, AgentTeam.agent_id == Agent.id).where(
                        AgentTeam.team_id == team_id
                    )
                )
            ).all()
        )
        if own:
            return own
    return list((await session.scalars(query.order_by(Agent.id))).all())
