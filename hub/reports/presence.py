"""Agents' presence as it really is: online from sign-in, away after a while without a request,
offline at sign-out or once neither a request nor an open live page has been seen for longer.
Every change goes through ``change_presence``, which keeps ``Agent.presence`` (what routing
reads) and the presence spans (what "time online" is summed from) in step, and tells open live
pages. ``time_online`` is the one way reports read the spans."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.live import LiveSettings
from hub.db.inbox_models import Event
from hub.db.models import Agent, Presence
from hub.db.presence_models import AgentActivity, PresenceSpan
from hub.platform.clock import aware

PRESENCE_EVENT = "presence"


async def change_presence(
    session: AsyncSession,
    agent: Agent,
    presence: Presence | str,
    now: datetime,
    *,
    chosen: bool = False,
) -> bool:
    """Set ``agent``'s presence, ending the span it was in and starting one for the new
    presence (offline has none). ``chosen``: the agent picked it by hand (away or offline then
    stay until the agent changes them; so does signing out). Returns whether the presence
    changed. The caller commits."""
    new = Presence(presence)
    activity = await session.get(AgentActivity, agent.id)
    if activity is None:
        activity = AgentActivity(agent_id=agent.id, last_request_at=now, chosen=False)
        session.add(activity)
    activity.chosen = chosen and new != Presence.ONLINE
    if agent.presence == new:
        if new != Presence.OFFLINE and await _open_span(session, agent.id) is None:
            session.add(PresenceSpan(agent_id=agent.id, presence=new, started_at=now))
        return False
    await session.execute(
        update(PresenceSpan)
        .where(PresenceSpan.agent_id == agent.id, PresenceSpan.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    if new != Presence.OFFLINE:
        session.add(PresenceSpan(agent_id=agent.id, presence=new, started_at=now))
    agent.presence = new
    session.add(
        Event(
            kind=PRESENCE_EVENT,
            conversation_id=None,
            team_ids=[],
            agent_ids=[agent.id],
            payload={"agent_id": agent.id, "presence": new.value},
            created_at=now,
        )
    )
    return True


async def _open_span(session: AsyncSession, agent_id: int) -> PresenceSpan | None:
    return await session.scalar(
        select(PresenceSpan)
        .where(PresenceSpan.agent_id == agent_id, PresenceSpan.ended_at.is_(None))
        .limit(1)
    )


async def note_activity(
    session: AsyncSession, agent: Agent, now: datetime, *, stream: bool = False
) -> bool:
    """The agent made a request (or, ``stream``, has a live page open). An agent who went
    away or offline by being idle is back online on a request; one who chose away or offline
    (or signed out) stays so. Returns whether the presence changed. The caller commits."""
    activity = await session.get(AgentActivity, agent.id)
    if activity is None:
        # Away or offline for a reason we did not see (set before activity was recorded):
        # kept as it is, as if chosen.
        held = agent.presence != Presence.ONLINE
        activity = AgentActivity(agent_id=agent.id, last_request_at=now, chosen=held)
        session.add(activity)
    if stream:
        activity.last_stream_at = now
    else:
        activity.last_request_at = now
    if stream or activity.chosen or agent.presence == Presence.ONLINE:
        return False
    return await change_presence(session, agent, Presence.ONLINE, now)


async def sweep(session: AsyncSession, settings: LiveSettings, now: datetime) -> list[int]:
    """Online agents idle for ``away_after_minutes`` become away; agents with neither a request
    nor an open live page for ``offline_after_minutes`` become offline. Only agents whose
    activity is recorded (who signed in or made a request) are judged. Returns the agents
    whose presence changed. The caller commits."""
    away_before = now - timedelta(minutes=settings.away_after_minutes)
    gone_before = now - timedelta(minutes=settings.offline_after_minutes)
    last_seen = AgentActivity.last_request_at
    stream_seen = AgentActivity.last_stream_at
    idle = or_(stream_seen.is_(None), stream_seen < gone_before)
    rows = (
        await session.execute(
            select(Agent, AgentActivity)
            .join(AgentActivity, AgentActivity.agent_id == Agent.id)
            .where(
                Agent.presence.in_((Presence.ONLINE, Presence.AWAY)),
                or_(
                    and_(Agent.presence == Presence.ONLINE, last_seen < away_before),
                    and_(last_seen < gone_before, idle),
                ),
            )
            .order_by(Agent.id)
            .limit(1000)
        )
    ).all()
    changed = []
    for agent, activity in rows:
        streamed = activity.last_stream_at is not None and aware(activity.last_stream_at) >= (
            gone_before
        )
        target = (
            Presence.OFFLINE
            if aware(activity.last_request_at) < gone_before and not streamed
            else Presence.AWAY
        )
        if target == Presence.AWAY and (agent.presence != Presence.ONLINE or activity.chosen):
            continue
        if await change_presence(session, agent, target, now, chosen=False):
            changed.append(agent.id)
    return changed


async def time_online(
    session: AsyncSession,
    agent_ids: Collection[int],
    start: datetime,
    end: datetime,
    *,
    presences: Collection[str] = (Presence.ONLINE,),
    now: datetime | None = None,
) -> dict[int, timedelta]:
    """Time each agent spent online (or in ``presences``) within ``[start, end)``; a span still
    open counts until ``now`` (default ``end``). Every asked agent is in the answer."""
    totals = {agent_id: timedelta(0) for agent_id in agent_ids}
    if not totals or end <= start:
        return totals
    until = min(end, now) if now is not None else end
    rows = await session.execute(
        select(PresenceSpan.agent_id, PresenceSpan.started_at, PresenceSpan.ended_at).where(
            PresenceSpan.agent_id.in_(list(totals)),
            PresenceSpan.presence.in_([str(p) for p in presences]),
            PresenceSpan.started_at < end,
            or_(PresenceSpan.ended_at.is_(None), PresenceSpan.ended_at > start),
        )
    )
    for agent_id, started_at, ended_at in rows:
        begin = max(aware(started_at), start)
        finish = min(aware(ended_at) if ended_at is not None else until, end)
        if finish > begin:
            totals[agent_id] += finish - begin
    return totals
