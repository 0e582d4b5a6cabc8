"""``relaydesk reports rebuild``: recompute the facts and the rollups from history. The clock
facts (first response, reply, resolution, responses) are replayed from the message log; CSAT
answers and surveys come from their own tables; SLA outcomes recorded live are kept (breaches
the monitor logged are added where none was recorded). Then the rollups of the days concerned
are written again from the facts, in bulk, in the same transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.base import table_of
from hub.db.inbox_models import ConversationTag
from hub.db.models import Conversation, Customer, Direction, Message
from hub.db.report_models import ReportConversation, ReportDaily, ReportFact, ReportHourly
from hub.db.routing_models import CsatResponse, Job, SlaClock, SlaEvent
from hub.reports.facts import contribute
from hub.reports.record import Reports
from hub.reports.replay import Event, Subject, replay
from hub.reports.rollup import MemorySink, Slice

CHUNK = 2000
FACT_COLUMNS = (
    ReportFact.kind,
    ReportFact.state,
    ReportFact.day,
    ReportFact.metric,
    ReportFact.outcome,
    ReportFact.score,
    ReportFact.calendar_seconds,
    ReportFact.business_seconds,
    ReportFact.channel,
    ReportFact.team_id,
    ReportFact.agent_id,
    ReportFact.tier,
    ReportFact.tags,
)
REPLAYED = ("first_response", "reply", "resolution", "response", "csat", "survey")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Rebuilt:
    conversations: int
    facts: int
    rollup_rows: int


def _start_of(reports: Reports, day: date) -> datetime:
    return datetime.combine(day, time(0), reports.zone)


async def rebuild(
    session: AsyncSession,
    reports: Reports,
    since: date | None = None,
    progress: Progress | None = None,
) -> Rebuilt:
    """Run in one writer transaction; the caller commits."""
    begin = _start_of(reports, since) if since else None
    query = select(Conversation.id).order_by(Conversation.id)
    if begin is not None:
        query = query.where(Conversation.last_activity_at >= begin)
    ids = list((await session.scalars(query)).all())
    sink = MemorySink()
    written = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        written += await _replay_chunk(session, reports, chunk, sink, since)
        if progress is not None:
            progress(min(start + CHUNK, len(ids)), len(ids))
    if progress is not None and not ids:
        progress(0, 0)
    await _rollups(session, since, sink)
    return Rebuilt(len(ids), written, len(sink.daily) + len(sink.hours))


async def _replay_chunk(
    session: AsyncSession,
    reports: Reports,
    ids: Sequence[int],
    sink: MemorySink,
    since: date | None,
) -> int:
    await session.execute(
        delete(ReportFact).where(ReportFact.conversation_id.in_(ids), ReportFact.kind.in_(REPLAYED))
    )
    await session.execute(
        delete(ReportConversation).where(ReportConversation.conversation_id.in_(ids))
    )
    subjects = await _subjects(session, reports, ids)
    histories: dict[int, list[Event]] = defaultdict(list)
    rows = await session.execute(
        select(
            Message.conversation_id,
            Message.id,
            Message.direction,
            Message.author_agent_id,
            Message.automated,
            Message.delivery_state,
            Message.created_at,
            Message.text,
        )
        .where(
            Message.conversation_id.in_(ids),
            Message.direction != Direction.NOTE,
        )
        .order_by(Message.conversation_id, Message.created_at, Message.id)
    )
    for conversation_id, mid, direction, author, automated, state, created, text in rows:
        event = Event(mid, direction, author, automated, state, created, text)
        if event.direction == Direction.EVENT and not event.text.startswith("Status changed"):
            continue
        histories[conversation_id].append(
            event if event.direction == Direction.EVENT else _short(event)
        )
    facts: list[dict[str, Any]] = []
    states: list[dict[str, Any]] = []
    for conversation_id in ids:
        subject = subjects.get(conversation_id)
        if subject is None:
            continue
        done = replay(reports, subject, histories.get(conversation_id, []))
        facts.extend(done.facts)
        states.append(
            {
                "conversation_id": conversation_id,
                "cycle": done.cycle,
                "opened_at": done.opened_at,
                "resolutions": done.resolutions,
                "calendar": subject.calendar,
            }
        )
        where = _slice(subject)
        for at in done.messages:
            await _volume(reports, sink, since, at, where, "messages")
        if done.opened is not None:
            await _volume(reports, sink, since, done.opened, where, "conversations")
    facts += await _answers(session, reports, subjects)
    facts += await _breaches(session, reports, subjects)
    for start in range(0, len(facts), CHUNK):
        await session.execute(insert(table_of(ReportFact)), facts[start : start + CHUNK])
    if states:
        await session.execute(insert(table_of(ReportConversation)), states)
    return len(facts)


def _short(event: Event) -> Event:
    return Event(
        event.id,
        event.direction,
        event.author_agent_id,
        event.automated,
        event.delivery_state,
        event.created_at,
        "",
    )


async def _volume(
    reports: Reports,
    sink: MemorySink,
    since: date | None,
    at: datetime,
    where: Slice,
    metric: str,
) -> None:
    day = reports.day(at)
    if since is not None and day < since:
        return
    await sink.counts(day, metric, where)
    await sink.hourly(day, reports.hour(at), where.channel, metric)


async def _subjects(
    session: AsyncSession, reports: Reports, ids: Sequence[int]
) -> dict[int, Subject]:
    tags: dict[int, list[str]] = defaultdict(list)
    for conversation_id, tag in await session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag).where(
            ConversationTag.conversation_id.in_(ids)
        )
    ):
        tags[conversation_id].append(tag)
    clocks = {
        clock.conversation_id: clock
        for clock in await session.scalars(
            select(SlaClock).where(SlaClock.conversation_id.in_(ids))
        )
    }
    rows = await session.execute(
        select(
            Conversation.id,
            Conversation.channel,
            Conversation.team_id,
            Conversation.assignee_id,
            Customer.tier,
        )
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Conversation.id.in_(ids))
    )
    return {
        cid: Subject(
            cid,
            channel,
            team_id,
            assignee_id,
            tier or "",
            tuple(tags.get(cid, ())),
            reports.calendar_of(clocks.get(cid)),
        )
        for cid, channel, team_id, assignee_id, tier in rows
    }


def _slice(subject: Subject) -> Slice:
    return Slice(subject.channel, subject.team_id, subject.assignee_id, subject.tier, subject.tags)


def _recorded(
    reports: Reports, subject: Subject, dedupe: str, kind: str, at: datetime
) -> dict[str, Any]:
    where = _slice(subject)
    return {
        "dedupe": dedupe,
        "kind": kind,
        "state": "done",
        "conversation_id": subject.id,
        "message_id": None,
        "response_id": None,
        "metric": "",
        "outcome": "",
        "score": None,
        "started_at": at,
        "ended_at": at,
        "day": reports.day(at),
        "calendar_seconds": None,
        "business_seconds": None,
        "channel": where.channel,
        "team_id": where.team_id,
        "agent_id": where.agent_id,
        "tier": where.tier,
        "tags": list(where.tags),
    }


async def _answers(
    session: AsyncSession, reports: Reports, subjects: dict[int, Subject]
) -> list[dict[str, Any]]:
    """Satisfaction answers and the surveys sent, from their own tables."""
    facts = []
    ids = list(subjects)
    for answer in await session.scalars(
        select(CsatResponse).where(CsatResponse.conversation_id.in_(ids))
    ):
        subject = subjects[answer.conversation_id]
        fact = _recorded(reports, subject, f"csat:{subject.id}", "csat", answer.created_at)
        fact["score"] = answer.score
        facts.append(fact)
    surveys = await session.execute(
        select(Job.conversation_id, Job.finished_at).where(
            Job.conversation_id.in_(ids),
            Job.dedupe_key.startswith("survey:"),
            Job.state == "done",
            Job.outcome.startswith("sent message"),
        )
    )
    for conversation_id, finished in surveys:
        if conversation_id is None or finished is None:
            continue
        subject = subjects[conversation_id]
        dedupe = f"survey:{subject.id}:{finished.isoformat()}"
        facts.append(_recorded(reports, subject, dedupe, "survey", finished))
    return facts


async def _breaches(
    session: AsyncSession, reports: Reports, subjects: dict[int, Subject]
) -> list[dict[str, Any]]:
    """SLA breaches the monitor logged where no outcome was recorded live (older history)."""
    ids = list(subjects)
    known = set(
        (
            await session.scalars(
                select(ReportFact.dedupe).where(
                    ReportFact.conversation_id.in_(ids), ReportFact.kind == "sla"
                )
            )
        ).all()
    )
    facts = []
    for event in await session.scalars(
        select(SlaEvent)
        .where(
            SlaEvent.conversation_id.in_(ids),
            SlaEvent.kind == "breach",
            SlaEvent.metric.in_(("first_response", "resolution")),
        )
        .order_by(SlaEvent.id)
    ):
        dedupe = f"sla:{event.conversation_id}:{event.metric}"
        if dedupe in known:
            continue
        known.add(dedupe)
        subject = subjects[event.conversation_id]
        fact = _recorded(reports, subject, dedupe, "sla", event.due_at)
        fact.update(metric=event.metric, outcome="breached")
        facts.append(fact)
    return facts


async def _rollups(session: AsyncSession, since: date | None, sink: MemorySink) -> None:
    """The rollups of the days concerned, written again from every fact of those days."""
    daily = delete(ReportDaily)
    hourly = delete(ReportHourly)
    facts = select(*FACT_COLUMNS).where(ReportFact.state == "done")
    if since is not None:
        daily = daily.where(ReportDaily.day >= since)
        hourly = hourly.where(ReportHourly.day >= since)
        facts = facts.where(ReportFact.day >= since)
    await session.execute(daily)
    await session.execute(hourly)
    stream = await session.stream(facts.execution_options(yield_per=5000))
    async for fact in stream:
        await contribute(fact, sink)
    await sink.write(session)
