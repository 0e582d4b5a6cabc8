"""Assignment strategies: round robin, least loaded, skills match and sticky. Only active agents
who are online and under capacity are candidates, and capacity is taken with the conditional
UPDATE in ``reserve_capacity``, so no number of concurrent assigners pushes an agent over it.
A conversation nobody can take waits in the queue (``ConversationRouting.queued_at``) and is
assigned, oldest first, as soon as someone is free; an assignee who goes offline or does not
answer in time loses the conversation to the next candidate.

An ingest batch routes many new conversations in one transaction: there (``batch=True``) a team's
candidates are read once and kept up to date as the batch takes capacity (an agent whose
reservation fails is dropped), and the round-robin cursor, locked and moved by this transaction,
is read once. A transaction locks the cursors of every team it may move (``expect_cursors``)
at its first move, in one statement in id order: two batches that assign in several teams, in
different orders, then never wait on each other's team rows in a cycle (a deadlock on
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.conversations import assign, log_event, reserve_capacity
from hub.core.transaction_memo import memo, unflushed_unless
from hub.db.models import Agent, AgentTeam, Conversation, ConversationStatus, Presence, Team
from hub.db.routing_models import ConversationRouting
from hub.routing.rules import CURSOR_STRATEGIES
from hub.routing.waiting_queue import waiting_for_free_agents

STRATEGIES = ("round_robin", "least_loaded", "skills", "sticky", "none")
_POOLS = "assignment_pools"  # team id -> {agent id: Candidate}, for the transaction
_CURSORS = "round_robin_cursors"  # team id -> cursor, for the transaction
_EXPECTED = "cursor_teams"  # (team slugs, team ids) the transaction may move the cursor of


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    open_count: int
    capacity: int
    skills: frozenset[str]
    name: str  # for the timeline's "Assigned to" line

    @property
    def load(self) -> float:
        return self.open_count / self.capacity if self.capacity else 1.0


async def candidates(
    session: AsyncSession, team_id: int, exclude: Collection[int] = (), *, batch: bool = False
) -> list[Candidate]:
    pools: dict[int, dict[int, Candidate]] = memo(session).setdefault(_POOLS, {})
    pool = pools.get(team_id) if batch else None
    if pool is None:
        with unflushed_unless(session, Agent, AgentTeam):
            rows = await session.execute(
                select(Agent.id, Agent.open_count, Agent.capacity, Agent.skills, Agent.name)
                .join(AgentTeam, AgentTeam.agent_id == Agent.id)
                .where(
                    AgentTeam.team_id == team_id,
                    Agent.active.is_(True),
                    Agent.presence == Presence.ONLINE,
                    Agent.open_count < Agent.capacity,
                )
                .order_by(Agent.id)
            )
        pool = {
            row[0]: Candidate(row[0], row[1], row[2], frozenset(row[3] or ()), row[4])
            for row in rows
        }
        if batch:
            pools[team_id] = pool
    return [c for c in pool.values() if c.id not in exclude]


def _reserved(session: AsyncSession, agent_id: int, taken: bool) -> None:
    """Keep the transaction's pools true: one more conversation for the agent (or none left
    to take, when the reservation failed)."""
    pools: dict[int, dict[int, Candidate]] = memo(session).get(_POOLS, {})
    for pool in pools.values():
        found = pool.get(agent_id)
        if found is None:
            continue
        busier = replace(found, open_count=found.open_count + 1)
        if taken and busier.open_count < busier.capacity:
            pool[agent_id] = busier
        else:
            del pool[agent_id]


async def last_served(session: AsyncSession, customer_id: int, conversation_id: int) -> int | None:
    """The agent of this customer's most recent other conversation that had one."""
    return await session.scalar(
        select(Conversation.assignee_id)
        .where(
            Conversation.customer_id == customer_id,
            Conversation.id != conversation_id,
            Conversation.assignee_id.is_not(None),
        )
        .order_by(Conversation.id.desc())
        .limit(1)
    )


def least_loaded(pool: list[Candidate]) -> list[int]:
    return [c.id for c in sorted(pool, key=lambda c: (c.load, c.open_count, c.id))]


def expect_cursors(
    session: AsyncSession, *, slugs: Collection[str] = (), team_ids: Collection[int] = ()
) -> None:
    """Teams whose round-robin cursor this transaction may move: the first move locks them
    all. Say so before the first assignment; a team named later is locked on its own."""
    expected: tuple[set[str], set[int]] = memo(session).setdefault(_EXPECTED, (set(), set()))
    expected[0].update(slugs)
    expected[1].update(team_ids)


async def _cursor(session: AsyncSession, team_id: int) -> int:
    """The team's cursor, locked for the transaction; the first call reads (and locks) every
    expected team's with it, in id order."""
    cursors: dict[int, int] = memo(session).setdefault(_CURSORS, {})
    if team_id not in cursors:
        slugs, ids = memo(session).get(_EXPECTED, ((), ()))
        query = (
            select(Team.id, Team.rr_cursor)
            .where(or_(Team.id.in_({team_id, *ids}), Team.slug.in_(slugs)))
            .order_by(Team.id)
        )
        if session.get_bind().dialect.name == "postgresql":
            # One cursor move at a time across processes. FOR NO KEY UPDATE, as the UPDATE of
            # the cursor locks: FOR UPDATE would wait for (and deadlock with) the key-share
            # locks of rows that refer to the team (a conversation routed to it, its events).
            query = query.with_for_update(key_share=True)
        with unflushed_unless(session, Team):
            found_cursors = await session.execute(query)
        for found, cursor in found_cursors:
            cursors.setdefault(found, cursor or 0)
    return cursors[team_id]


async def _round_robin(session: AsyncSession, team_id: int, pool: list[Candidate]) -> list[int]:
    cursor = await _cursor(session, team_id)  # locked: it stays ours until the commit
    ids = [c.id for c in pool]
    return [a for a in ids if a > cursor] + [a for a in ids if a <= cursor]


async def order_for(
    session: AsyncSession,
    conversation: Conversation,
    strategy: str,
    skills: Collection[str],
    pool: list[Candidate],
    sticky_fallback: str,
) -> list[int]:
    assert conversation.team_id is not None
    if strategy == "sticky":
        previous = await last_served(session, conversation.customer_id, conversation.id)
        rest = await order_for(session, conversation, sticky_fallback, skills, pool, "none")
        if previous is not None and any(c.id == previous for c in pool):
            return [previous, *(a for a in rest if a != previous)]
        return rest
    if strategy == "skills":
        wanted = set(skills)
        return least_loaded([c for c in pool if wanted <= c.skills])
    if strategy == "least_loaded":
        return least_loaded(pool)
    if strategy == "round_robin":
        return await _round_robin(session, conversation.team_id, pool)
    return []


async def try_assign(
    session: AsyncSession,
    conversation: Conversation,
    routing: ConversationRouting,
    now: datetime,
    *,
    sticky_fallback: str = "least_loaded",
    exclude: Collection[int] = (),
    batch: bool = False,
) -> int | None:
    """Assign by the conversation's strategy; None when nobody can take it now."""
    if conversation.team_id is None or routing.strategy == "none":
        return None
    pool = await candidates(session, conversation.team_id, exclude, batch=batch)
    if not pool:
        return None
    if routing.strategy in CURSOR_STRATEGIES:
        await _cursor(session, conversation.team_id)  # the team's lock before any agent's
    order = await order_for(
        session, conversation, routing.strategy, routing.skills, pool, sticky_fallback
    )
    names = {candidate.id: candidate.name for candidate in pool}
    for agent_id in order:
        taken = await reserve_capacity(session, agent_id)
        _reserved(session, agent_id, taken)
        if taken:
            if routing.strategy in CURSOR_STRATEGIES:
                memo(session).setdefault(_CURSORS, {})[conversation.team_id] = agent_id
                with unflushed_unless(session, Team):
                    await session.execute(
                        update(Team)
                        .where(Team.id == conversation.team_id)
                        .values(rr_cursor=agent_id)
                        .execution_options(synchronize_session=False)
                    )
            await assign(
                session, conversation, agent_id, now, reserved=True, agent_name=names.get(agent_id)
            )
            routing.assigned_to, routing.assigned_at, routing.queued_at = agent_id, now, None
            return agent_id
    return None


async def assign_or_queue(
    session: AsyncSession,
    conversation: Conversation,
    routing: ConversationRouting,
    now: datetime,
    *,
    sticky_fallback: str = "least_loaded",
    exclude: Collection[int] = (),
    waiting_since: datetime | None = None,
    batch: bool = False,
) -> int | None:
    """Assign, or queue when nobody can take it; ``batch``: the caller routes many new
    conversations in this transaction (the pool is read once)."""
    agent_id = await try_assign(
        session,
        conversation,
        routing,
        now,
        sticky_fallback=sticky_fallback,
        exclude=exclude,
        batch=batch,
    )
    if agent_id is None and conversation.team_id is not None and routing.strategy != "none":
        routing.queued_at = waiting_since or now
    return agent_id


async def drain_queue(
    session: AsyncSession, now: datetime, *, sticky_fallback: str, limit: int = 200
) -> list[tuple[int, int]]:
    """Assign waiting conversations, oldest first; returns (conversation, agent) pairs. Only
    conversations of teams with somebody free are read (``waiting_queue``): when every agent is
    busy or offline (a long queue on a busy day), a pass reads nothing, where it read the
    oldest ``limit`` waiting conversations and put each back, holding up ingest on SQLite's
    one writer, and a team's conversation behind ``limit`` of other teams' never came up."""
    rows = await waiting_for_free_agents(session, limit)
    expect_cursors(
        session,
        team_ids={
            c.team_id for r, c in rows if c.team_id is not None and r.strategy in CURSOR_STRATEGIES
        },
    )
    done: list[tuple[int, int]] = []
    exhausted: set[tuple[int | None, frozenset[str]]] = set()
    for routing, conversation in rows:
        key = (conversation.team_id, frozenset(routing.skills or ()))
        if key in exhausted:
            continue  # an older conversation with the same needs found nobody
        claimed = await session.execute(
            update(ConversationRouting)
            .where(
                ConversationRouting.conversation_id == routing.conversation_id,
                ConversationRouting.queued_at == routing.queued_at,
            )
            .values(queued_at=None)
            .execution_options(synchronize_session=False)
        )
        if not getattr(claimed, "rowcount", 0):
            continue  # another process took it
        waiting_since = routing.queued_at
        agent_id = await try_assign(
            session, conversation, routing, now, sticky_fallback=sticky_fallback
        )
        if agent_id is None:
            # Back in the queue. Written as an UPDATE: the claim above bypassed the session, so
            # setting the attribute to the value it still holds there would write nothing.
            await session.execute(
                update(ConversationRouting)
                .where(ConversationRouting.conversation_id == routing.conversation_id)
                .values(queued_at=waiting_since)
                .execution_options(synchronize_session=False)
            )
            exhausted.add(key)
        else:
            done.append((conversation.id, agent_id))
    return done


async def reassign(
    session: AsyncSession,
    conversation: Conversation,
    reason: str,
    now: datetime,
    *,
    sticky_fallback: str,
    keep_if_nobody: bool = False,
) -> int | None:
    """Give the conversation to someone other than its assignee. When nobody can take it, it
    is queued - or, with ``keep_if_nobody``, stays where it is (its timer restarts)."""
    previous = conversation.assignee_id
    routing = await session.get(ConversationRouting, conversation.id)
    if routing is None:
        routing = ConversationRouting(
            conversation_id=conversation.id, strategy="least_loaded", skills=[], tags=[]
        )
        routing.created_at = now
        session.add(routing)
    if routing.strategy == "none":
        routing.strategy = "least_loaded"
    exclude = [previous] if previous is not None else []
    agent_id = await try_assign(
        session, conversation, routing, now, sticky_fallback=sticky_fallback, exclude=exclude
    )
    if agent_id is not None:
        await log_event(session, conversation, f"Reassigned: {reason}", now)
        return agent_id
    if keep_if_nobody:
        routing.assigned_to, routing.assigned_at = previous, now
        return None
    await log_event(session, conversation, f"Unassigned: {reason}; waiting in the queue", now)
    await assign(session, conversation, None, now)
    routing.assigned_to = routing.assigned_at = None
    if conversation.team_id is not None:
        routing.queued_at = conversation.created_at
    return None


async def offline_assignments(session: AsyncSession) -> list[Conversation]:
    """Open conversations whose assignee is offline or deactivated. Driven from the (few)
    agents, through the assignee index: this runs every job pass, and a plan led by the open
    conversations would scan all of them each time. ``CROSS JOIN`` keeps SQLite's planner
    from choosing that plan when its statistics see mostly unassigned conversations (it did,
    at 1M customers in bench/identity.py); PostgreSQL reads it as the plain join it is."""
    statement = text(
        "SELECT conversations.* FROM agents CROSS JOIN conversations "
        "WHERE conversations.assignee_id = agents.id "
        "AND (agents.presence = :offline OR agents.active = :inactive) "
        "AND conversations.status = :open LIMIT 500"
    ).bindparams(offline=Presence.OFFLINE.value, inactive=False, open=ConversationStatus.OPEN.value)
    return list((await session.scalars(select(Conversation).from_statement(statement))).all())
