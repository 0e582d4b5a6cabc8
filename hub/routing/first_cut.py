"""Routing, first cut: ordered rules (channel, keywords) pick a team and a priority; the team's
online agents with spare capacity take new conversations in round-robin order."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.config.settings import Priority, RoutingRule, RoutingSettings
from hub.core.conversations import assign, reserve_capacity
from hub.db.models import Agent, AgentTeam, Conversation, Presence, Team
from hub.routing.rules import Facts, matches_message


@dataclass(frozen=True, slots=True)
class RouteDecision:
    team: str
    priority: Priority
    rule: str | None


def _matches(rule: RoutingRule, inbound: InboundMessage) -> bool:
    if rule.channels and inbound.channel not in rule.channels:
        return False
    if rule.keywords:
        haystack = f"{inbound.subject or ''}\n{inbound.text}".lower()
        return any(
            # Whole words; lookarounds (not \b) so keywords like "c++" or "#vip" match too.
            re.search(rf"(?<!\w){re.escape(keyword.lower())}(?!\w)", haystack)
            for keyword in rule.keywords
        )
    return True


def _extended(rule: RoutingRule, settings: RoutingSettings, inbound: InboundMessage) -> bool:
    """The engine's further conditions (hub/rules.py), judged on the message alone."""
    text = f"{inbound.subject or ''}\n{inbound.text}"
    facts = Facts(inbound.channel, "", text, has_attachment=bool(inbound.attachments))
    return matches_message(rule.model_copy(update={"keywords": ()}), settings, facts)


def decide(settings: RoutingSettings, inbound: InboundMessage) -> RouteDecision:
    for rule in settings.rules:
        if _matches(rule, inbound) and _extended(rule, settings, inbound):
            team = rule.team or settings.default_team
            return RouteDecision(team, rule.priority or settings.default_priority, rule.name)
    return RouteDecision(settings.default_team, settings.default_priority, None)


async def team_id_for(session: AsyncSession, slug: str) -> int | None:
    return await session.scalar(select(Team.id).where(Team.slug == slug))


async def assign_round_robin(
    session: AsyncSession, conversation: Conversation, team_id: int, now: datetime
) -> int | None:
    """Assign to the next online agent of the team after the team's cursor who has capacity.
    Returns the agent id, or None when nobody is available (the conversation stays queued)."""
    team = await session.get(Team, team_id)
    if team is None:
        return None
    candidates = list(
        (
            await session.execute(
                select(Agent.id)
                .join(AgentTeam, AgentTeam.agent_id == Agent.id)
                .where(
                    AgentTeam.team_id == team_id,
                    Agent.active.is_(True),
                    Agent.presence == Presence.ONLINE,
                    Agent.open_count < Agent.capacity,
                )
                .order_by(Agent.id)
            )
        ).scalars()
    )
    if not candidates:
        return None
    cursor = team.rr_cursor or 0
    ordered = [a for a in candidates if a > cursor] + [a for a in candidates if a <= cursor]
    for agent_id in ordered:
        if await reserve_capacity(session, agent_id):
            team.rr_cursor = agent_id
            await assign(session, conversation, agent_id, now, reserved=True)
            return agent_id
    return None
