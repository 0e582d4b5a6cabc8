"""The queue as the assignment sweep reads it: waiting conversations that somebody free could
take, oldest first.

The queue's own index (``conversation_routing (queued_at, conversation_id)``) drives the read,
a page of ids at a time, and only then are the conversations of those ids read and checked
(unassigned, still active, of a team with somebody free). One join over both tables let
SQLite start from the conversations instead, walking every unassigned open conversation
(20 ms at 10,000 of them, queued or not) on every pass of the sweep, in the writer. When
nobody anywhere is free, nothing is read.

A pass looks at most ``SCANNED`` queue entries: with a backlog in a team where nobody is free
and an idle agent in another, a pass costs a few milliseconds, not a walk of the whole
backlog every second. (The sweep before read the oldest 200 entries only, so a team's
conversation behind 200 of another team's never came up.)"""

from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.conversations import ACTIVE
from hub.db.models import Agent, AgentTeam, Conversation, Presence
from hub.db.routing_models import ConversationRouting

PAGE = 500  # queue entries read per step
SCANNED = 2000  # queue entries looked at per pass, at most

# The teams one of whose agents could take a conversation now (a candidate of ``candidates``).
TEAMS_WITH_SOMEBODY_FREE = (
    select(AgentTeam.team_id)
    .join(Agent, Agent.id == AgentTeam.agent_id)
    .where(
        Agent.active.is_(True),
        Agent.presence == Presence.ONLINE,
        Agent.open_count < Agent.capacity,
    )
    .distinct()
)

_QUEUE = (
    select(ConversationRouting.queued_at, ConversationRouting.conversation_id)
    .where(ConversationRouting.queued_at.is_not(None), ConversationRouting.bot_active.is_(False))
    .order_by(ConversationRouting.queued_at, ConversationRouting.conversation_id)
)


async def waiting_for_free_agents(
    session: AsyncSession, limit: int, *, page_size: int = PAGE, scanned: int = SCANNED
) -> list[tuple[ConversationRouting, Conversation]]:
    """Up to ``limit`` waiting conversations of teams with somebody free, oldest first, with
    their routing rows, among the oldest ``scanned`` queue entries, read ``page_size`` at a
    time."""
    teams = list(await session.scalars(TEAMS_WITH_SOMEBODY_FREE))
    if not teams:
        return []
    found: list[tuple[ConversationRouting, Conversation]] = []
    query = _QUEUE
    while len(found) < limit and scanned > 0:
        wanted = min(page_size, scanned)
        page = (await session.execute(query.limit(wanted))).all()
        scanned -= wanted
        if not page:
            break
        rows = await session.execute(
            select(ConversationRouting, Conversation)
            .join(Conversation, Conversation.id == ConversationRouting.conversation_id)
            .where(
                ConversationRouting.conversation_id.in_([row[1] for row in page]),
                ConversationRouting.queued_at.is_not(None),
                Conversation.assignee_id.is_(None),
                Conversation.status.in_(ACTIVE),
                Conversation.team_id.in_(teams),
            )
            .order_by(ConversationRouting.queued_at, ConversationRouting.conversation_id)
        )
        found += [(routing, conversation) for routing, conversation in rows]
        if len(page) < wanted:
            break  # the end of the queue
        last_at, last_id = page[-1]
        query = _QUEUE.where(
            or_(
                ConversationRouting.queued_at > last_at,
                and_(
                    ConversationRouting.queued_at == last_at,
                    ConversationRouting.conversation_id > last_id,
                ),
            )
        )
    return found[:limit]
