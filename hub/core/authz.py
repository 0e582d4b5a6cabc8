"""Who may do what: role checks and object checks in one place."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import not_found
from hub.db.inbox_models import Mention
from hub.db.models import Agent, AgentTeam, Conversation, Presence, Role


@dataclass(frozen=True, slots=True)
class Principal:
    agent_id: int
    role: Role
    team_ids: frozenset[int]

    @property
    def sees_everything(self) -> bool:
        return self.role in (Role.ADMIN, Role.SUPERVISOR)

    @property
    def handles_conversations(self) -> bool:
        return self.role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)

    @property
    def manages_assignments(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


async def load_team_ids(session: AsyncSession, agent_id: int) -> frozenset[int]:
    rows = await session.scalars(select(AgentTeam.team_id).where(AgentTeam.agent_id == agent_id))
    return frozenset(rows)


def conversation_filter(principal: Principal) -> ColumnElement[bool]:
    """SQL condition selecting the conversations this principal may see: their own, their
    teams', and those a colleague @mentioned them in (whatever the team)."""
    if not principal.handles_conversations:
        return false()
    if principal.sees_everything:
        return true()
    return or_(
        Conversation.assignee_id == principal.agent_id,
        Conversation.team_id.in_(principal.team_ids) if principal.team_ids else false(),
        _mentioned(principal),
    )


def _mentioned(principal: Principal) -> ColumnElement[bool]:
    return exists().where(
        Mention.agent_id == principal.agent_id, Mention.conversation_id == Conversation.id
    )


def can_see_conversation(principal: Principal, conversation: Conversation) -> bool:
    if not principal.handles_conversations:
        return False
    return (
        principal.sees_everything
        or conversation.assignee_id == principal.agent_id
        or (conversation.team_id is not None and conversation.team_id in principal.team_ids)
    )


async def may_see_conversation(
    session: AsyncSession, principal: Principal, conversation: Conversation
) -> bool:
    """``can_see_conversation``, or the principal was @mentioned in it."""
    if can_see_conversation(principal, conversation):
        return True
    if not principal.handles_conversations:
        return False
    mentioned = await session.scalar(
        select(Mention.id)
        .where(Mention.agent_id == principal.agent_id, Mention.conversation_id == conversation.id)
        .limit(1)
    )
    return mentioned is not None


async def visible_conversation(
    session: AsyncSession, principal: Principal, conversation_id: int
) -> Conversation:
    """The conversation, if ``principal`` may see it; otherwise 404, so that a conversation one
    may not see cannot be told from one that does not exist."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or not await may_see_conversation(session, principal, conversation):
        raise not_found("conversation", conversation_id)
    return conversation


async def may_assign(
    session: AsyncSession, principal: Principal, conversation: Conversation, target: int | None
) -> bool:
    """Supervisors and admins assign freely. An agent may take an unassigned conversation, hand
    back their own, or take over a colleague's only when that colleague is offline or disabled
    (so work never sits with someone who is gone, and nobody silently steals a live thread)."""
    if principal.manages_assignments:
        return True
    current = conversation.assignee_id
    if target is None:
        return current == principal.agent_id
    if target != principal.agent_id:
        return False
    if current in (None, principal.agent_id):
        return True
    holder = await session.get(Agent, current)
    return holder is None or not holder.active or holder.presence == Presence.OFFLINE


async def can_see_customer(session: AsyncSession, principal: Principal, customer_id: int) -> bool:
    if principal.sees_everything or principal.role == Role.MARKETER:
        return True
    visible = await session.scalar(
        select(
            exists().where(Conversation.customer_id == customer_id, conversation_filter(principal))
        )
    )
    return bool(visible)
