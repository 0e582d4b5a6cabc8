"""Why a conversation stays unassigned, in words an agent can act on: computed from the
routing facts and the team's people as they are now, so the conversation page and the API say
it the same way ("No agent of Billing is available: 1 away, 2 signed out")."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.conversations import ACTIVE
from hub.db.models import Agent, AgentTeam, Conversation, Presence, Team
from hub.db.routing_models import ConversationRouting

_STATES = ("away", "signed out", "at capacity", "without the skills", "deactivated")


def _state(agent: Agent, skills: frozenset[str]) -> str | None:
    """Why ``agent`` cannot take a conversation needing ``skills`` (None: they can)."""
    if not agent.active:
        return "deactivated"
    if agent.presence == Presence.AWAY:
        return "away"
    if agent.presence != Presence.ONLINE:
        return "signed out"
    if agent.open_count >= agent.capacity:
        return "at capacity"
    if not skills <= set(agent.skills or ()):
        return "without the skills"
    return None


async def unassigned_reason(session: AsyncSession, conversation: Conversation) -> str | None:
    """Why nobody has the conversation; None when it is assigned or closed."""
    if conversation.assignee_id is not None or conversation.status not in ACTIVE:
        return None
    routing = await session.get(ConversationRouting, conversation.id)
    if routing is not None and routing.bot_active:
        return f"A bot ({routing.bot}) is answering; a person gets it when the customer asks"
    if conversation.team_id is None:
        return "No team: move it to a team, or assign it by hand"
    team = await session.get(Team, conversation.team_id)
    name = team.name if team else "the team"
    if routing is not None and routing.strategy == "none":
        rule = f" (rule {routing.rule!r})" if routing.rule else ""
        return f"Routing assigns nobody{rule}: an agent of {name} takes it by hand"
    members = (
        await session.scalars(
            select(Agent)
            .join(AgentTeam, AgentTeam.agent_id == Agent.id)
            .where(AgentTeam.team_id == conversation.team_id)
        )
    ).all()
    if not members:
        return f"No agent of {name} is available: the team has no members"
    skilled = routing is not None and routing.strategy == "skills"
    needs = frozenset(routing.skills or ()) if routing is not None and skilled else frozenset()
    counts = Counter(_state(agent, needs) for agent in members)
    if counts[None]:
        return f"Waiting for the next free agent of {name}"
    parts = [f"{counts[state]} {state}" for state in _STATES if counts[state]]
    return f"No agent of {name} is available: {', '.join(parts)}"
