"""Triage: an agent changes who holds a conversation, its status or its priority. Agents may take
or hand back their own work; assigning anyone else needs a supervisor or admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Priority, Settings
from hub.core.authz import Principal, may_assign
from hub.core.conversations import assign, set_status
from hub.core.errors import ASSIGN_FORBIDDEN, forbidden, invalid_field
from hub.core.tickets import change_priority
from hub.db.models import Agent, Conversation, ConversationStatus, Role
from hub.reports.record import Reports


@dataclass(frozen=True, slots=True)
class Triage:
    """What to change; ``reassign`` says whether ``assignee_id`` was given (None unassigns)."""

    status: ConversationStatus | None = None
    priority: Priority | None = None
    reassign: bool = False
    assignee_id: int | None = None


async def _assignable(session: AsyncSession, agent_id: int) -> bool:
    """An active account whose role handles conversations (not a marketer)."""
    agent = await session.get(Agent, agent_id)
    return agent is not None and agent.active and agent.role != Role.MARKETER


async def triage(
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    conversation: Conversation,
    change: Triage,
    now: datetime,
) -> None:
    """Apply ``change`` as ``principal``: the assignee first (refused as a whole if not allowed),
    then the status, then the priority. The caller commits."""
    if change.reassign:
        assignee = change.assignee_id
        if not await may_assign(session, principal, conversation, assignee):
            raise forbidden(ASSIGN_FORBIDDEN)
        if assignee is not None and not await _assignable(session, assignee):
            raise invalid_field(
                "assignee_id", f"agent {assignee} does not exist or cannot take conversations"
            )
        await assign(session, conversation, assignee, now, actor_id=principal.agent_id)
    if change.status is not None:
        previous = conversation.status
        await set_status(session, conversation, change.status, now, actor_id=principal.agent_id)
        await Reports(settings).status_changed(
            session, conversation, previous, now, principal.agent_id
        )
    if change.priority is not None:
        await change_priority(
            session, settings, conversation, change.priority, now, principal.agent_id
        )
