"""Agents' availability for routing: presence, capacity and skills. Going online drains the
queue at once; going offline hands the agent's open work over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.models import Agent, Presence
from hub.reports.presence import change_presence
from hub.routing.monitor import Monitor


@dataclass(frozen=True, slots=True)
class Availability:
    """What to change; None leaves it as it is."""

    presence: Presence | None = None
    capacity: int | None = None
    skills: Sequence[str] | None = None


async def set_availability(
    session: AsyncSession, monitor: Monitor, agent: Agent, change: Availability, now: datetime
) -> None:
    """Apply ``change`` to ``agent`` and route what it frees or blocks. The caller commits."""
    if change.presence is not None:
        await change_presence(session, agent, change.presence, now, chosen=True)
    if change.capacity is not None:
        agent.capacity = change.capacity
    if change.skills is not None:
        agent.skills = sorted(set(change.skills))
    await session.flush()
    if change.presence == Presence.OFFLINE:
        await monitor.reassignments(session, now)
    await monitor.queue(session, now)
