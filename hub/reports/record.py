"""Reporting facts recorded as things happen, in the caller's transaction, with the rollups
they feed (definitions: docs/reports.md). The areas call these:

- ``customer_message`` (inbound, after routing heard of it): starts a reply clock for the
  message, and a first-response clock when it opens the conversation or reopens a resolved one;
- ``human_reply_delivered`` (outbound, when an agent's reply is sent): stops every clock started
  up to the reply's time; bots and automated messages never call it, failed replies never do;
- ``resolved`` / ``reopened`` (where a status changes): resolution time; clocks no human
  answered are dropped;
- ``sla_breaches`` (the SLA monitor), ``csat_answer`` (survey answers), ``survey_sent``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from hub.config.settings import Settings
from hub.core import sla
from hub.core.calendar import BusinessCalendar
from hub.db.base import table_of
from hub.db.inbox_models import ConversationTag
from hub.db.models import Conversation, ConversationStatus, Customer
from hub.db.report_models import ReportConversation, ReportFact
from hub.db.routing_models import SlaClock
from hub.db.upsert import insert_into
from hub.reports.clocks import RememberingCalendar, complete, new_fact
from hub.reports.facts import contribute
from hub.reports.rollup import CountSink, DbSink, Sink, Slice


def _states_with_tags(aggregate: str) -> Select[ReportConversation, list[str] | None]:
    """Report states with each conversation's tags (a JSON list; NULL or [] for none),
    locked in id order; ``aggregate`` is the dialect's JSON list aggregate."""
    tags = (
        select(getattr(func, aggregate)(ConversationTag.tag, type_=JSON))
        .where(ConversationTag.conversation_id == ReportConversation.conversation_id)
        .scalar_subquery()
    )
    return (
        select(ReportConversation, tags)
        .order_by(ReportConversation.conversation_id)
        .with_for_update()
    )


# Built once: building and hashing a statement costs more than running it.
_STATES_WITH_TAGS = {
    "postgresql": _states_with_tags("json_agg"),
    "sqlite": _states_with_tags("json_group_array"),
}

CLOCKS = ("first_response", "reply")
_FACT_COLUMNS = [column.key for column in table_of(ReportFact).columns if column.key != "id"]
SLA_METRICS = ("first_response", "resolution")


class Conversational(Protocol):
    """What a customer message's figures need of its conversation: the ORM row, or the
    columns an ingest batch read of it."""

    @property
    def id(self) -> int: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def assignee_id(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """A customer message for the reports; ``new``: its conversation was created in this
    transaction, so has no report state yet (nothing to read); ``tier``: the customer's, when
    the caller read it already (None: looked up)."""

    conversation: Conversational
    message_id: int
    at: datetime
    new: bool = False
    tier: str | None = None


@dataclass(frozen=True, slots=True)
class Breach:
    """An SLA target passed unmet: the conversation (its slice as it is now), which, when due."""

    conversation: Conversation
    metric: str
    due_at: datetime


class Reports:
    """Reporting for one settings object: the account's time zone and calendars."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.zone = ZoneInfo(settings.reports.timezone)
        self._calendars: dict[str | None, BusinessCalendar] = {}

    # --- time ----------------------------------------------------------------------------------

    def day(self, at: datetime) -> date:
        return at.astimezone(self.zone).date()

    def hour(self, at: datetime) -> int:
        return at.astimezone(self.zone).hour

    def calendar(self, name: str | None) -> BusinessCalendar:
        found = self._calendars.get(name)
        if found is None:
            found = self._calendars[name] = RememberingCalendar(
                self.settings.calendars.get(name or "")
            )
        return found

    def default_calendar(self) -> str | None:
        return self.settings.reports.calendar or self.settings.routing.calendar

    def calendar_of(self, clock: SlaClock | None) -> str | None:
        """The SLA policy's calendar when the conversation has an SLA clock, else the default."""
        if clock is not None:
            policy = sla.policy_named(self.settings, clock.policy)
            if policy is not None and policy.calendar:
                return policy.calendar
        return self.default_calendar()

    def durations(
        self, calendar: str | None, start: datetime, end: datetime
    ) -> tuple[float, float]:
        seconds = max(0.0, (end - start).total_seconds())
        return seconds, self.calendar(calendar).open_seconds(start, end)

    # --- state ---------------------------------------------------------------------------------

    async def _state(self, session: AsyncSession, conversation_id: int) -> ReportConversation:
        state = await session.scalar(
            select(ReportConversation)
            .where(ReportConversation.conversation_id == conversation_id)
            .with_for_update()
        )
        if state is None:
            clock = await session.get(SlaClock, conversation_id)
            state = ReportConversation(
                conversation_id=conversation_id,
                cycle=0,
                resolutions=0,
                calendar=self.calendar_of(clock),
            )
            session.add(state)
        return state

    async def slice_of(
        self, session: AsyncSession, conversation: Conversation, agent_id: int | None
    ) -> Slice:
        customer = await session.get(Customer, conversation.customer_id)
        tags = await session.scalars(
            select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation.id)
        )
        return Slice(
            conversation.channel,
            conversation.team_id,
            agent_id,
            customer.tier if customer else "",
            tuple(tags.all()),
        )

    # --- what happens --------------------------------------------------------------------------

    async def customer_message(
        self,
        session: AsyncSession,
        conversation: Conversation,
        message_id: int,
        at: datetime,
    ) -> None:
        await self.customer_messages(session, [Arrival(conversation, message_id, at)])

    async def customer_messages(self, session: AsyncSession, arrivals: Sequence[Arrival]) -> None:
        """Customer messages (an ingest batch's, in arrival order): the report states, tiers and
        tags they need read once for all, their counters written in one upsert per table."""
        if not arrivals:
            return
        sink = CountSink(session)
        # The states' select (with the tags) first: it flushes what is pending, the new states
        # after it go in whole with the facts.
        opened = {arrival.conversation.id for arrival in arrivals if arrival.new}
        conversations = [arrival.conversation for arrival in arrivals]
        tiers = {a.conversation.customer_id: a.tier for a in arrivals if a.tier is not None}
        states, tags = await self._states(session, conversations, opened)
        slices = await self._slices(session, conversations, opened, tiers, tags)
        facts: list[dict[str, Any]] = []
        for arrival in arrivals:
            conversation, at = arrival.conversation, arrival.at
            state, where, day = states[conversation.id], slices[conversation.id], self.day(at)
            if state.opened_at is None:
                state.cycle += 1
                state.opened_at = at
                dedupe = f"fr:{conversation.id}:{state.cycle}"
                facts.append(_clock_row(dedupe, "first_response", conversation, at, None))
                if state.cycle == 1:
                    await sink.counts(day, "conversations", where)
                    await sink.hourly(day, self.hour(at), conversation.channel, "conversations")
            reply = f"reply:{arrival.message_id}"
            facts.append(_clock_row(reply, "reply", conversation, at, arrival.message_id))
            await sink.counts(day, "messages", where)
            await sink.hourly(day, self.hour(at), conversation.channel, "messages")
        # Every clock the batch starts in one executemany (the ORM would insert them one by one)
        await session.execute(insert(table_of(ReportFact)), facts)
        await sink.write()

    async def _states(
        self, session: AsyncSession, conversations: Sequence[Conversational], new: set[int]
    ) -> tuple[dict[int, ReportConversation], dict[int, list[str]]]:
        """The conversations' report states, locked (in id order), and the tags of those that
        had one, in one select; a conversation without one (``new`` ones: created in this
        transaction, not looked for) gets a new one."""
        wanted = sorted({c.id for c in conversations} - new)
        states: dict[int, ReportConversation] = {}
        tags: dict[int, list[str]] = {}
        if wanted:
            query = _STATES_WITH_TAGS[session.get_bind().dialect.name]
            found = await session.execute(
                query.where(ReportConversation.conversation_id.in_(wanted))
            )
            for state, listed in found:
                states[state.conversation_id] = state
                tags[state.conversation_id] = listed or []
        for conversation in conversations:
            conversation_id = conversation.id
            if conversation_id not in states:
                clock = await session.get(SlaClock, conversation_id)
                state = ReportConversation(
                    conversation_id=conversation_id,
                    cycle=0,
                    resolutions=0,
                    calendar=self.calendar_of(clock),
                )
                session.add(state)
                states[conversation_id] = state
        return states, tags

    async def _slices(
        self,
        session: AsyncSession,
        conversations: Sequence[Conversational],
        opened: set[int],
        known: dict[int, str],
        known_tags: dict[int, list[str]],
    ) -> dict[int, Slice]:
        """Each conversation's slice (its assignee's): tiers of customers neither ``known``
        (customer id: tier) nor loaded in this session, and tags not ``known_tags``, in one
        select each. Conversations ``opened`` in this transaction have no tags (agents tag
        them once they see them): theirs are not read."""
        tiers: dict[int, str] = dict(known)
        for conversation in conversations:
            loaded = session.identity_map.get(identity_key(Customer, conversation.customer_id))
            if isinstance(loaded, Customer):
                tiers[conversation.customer_id] = loaded.tier
        missing = {c.customer_id for c in conversations} - tiers.keys()
        if missing:
            found = await session.execute(
                select(Customer.id, Customer.tier).where(Customer.id.in_(sorted(missing)))
            )
            tiers.update({customer_id: tier for customer_id, tier in found})
        ids = sorted(
            {conversation.id for conversation in conversations} - opened - known_tags.keys()
        )
        tags: dict[int, list[str]] = dict(known_tags)
        if ids:
            for conversation_id, tag in await session.execute(
                select(ConversationTag.conversation_id, ConversationTag.tag).where(
                    ConversationTag.conversation_id.in_(ids)
                )
            ):
                tags.setdefault(conversation_id, []).append(tag)
        return {
            c.id: Slice(
                c.channel,
                c.team_id,
                c.assignee_id,
                tiers.get(c.customer_id) or "",
                tuple(tags.get(c.id, ())),
            )
            for c in conversations
        }

    async def human_reply_delivered(
        self,
        session: AsyncSession,
        conversation: Conversation,
        reply_id: int,
        agent_id: int,
        at: datetime,
    ) -> None:
        """An agent's reply written at ``at`` was delivered: it answers every customer message
        that waited at that time (and the running first-response clock)."""
        sink = DbSink(session)
        state = await self._state(session, conversation.id)
        waiting = (
            await session.scalars(
                select(ReportFact)
                .where(
                    ReportFact.conversation_id == conversation.id,
                    ReportFact.state == "pending",
                    ReportFact.kind.in_(CLOCKS),
                    ReportFact.started_at <= at,
                )
                .order_by(ReportFact.id)
                .with_for_update()
            )
        ).all()
        where = await self.slice_of(session, conversation, agent_id)
        day = self.day(at)
        for fact in waiting:
            calendar, business = self.durations(state.calendar, fact.started_at, at)
            complete(fact, where, day, at, calendar, business)
            fact.response_id = reply_id
            await contribute(fact, sink)
        response = new_fact(f"resp:{reply_id}", "response", conversation, at)
        response.response_id = reply_id
        complete(response, where, day, at, None, None)
        session.add(response)
        await contribute(response, sink)
        await self._sla_outcome(session, conversation, "first_response", at, where, sink)
        await session.flush()

    async def resolved(
        self,
        session: AsyncSession,
        conversation: Conversation,
        at: datetime,
        actor_id: int | None = None,
    ) -> None:
        state = await self._state(session, conversation.id)
        if state.opened_at is None:
            return  # never opened by a customer, or already resolved
        sink = DbSink(session)
        agent_id = actor_id if actor_id is not None else conversation.assignee_id
        where = await self.slice_of(session, conversation, agent_id)
        day = self.day(at)
        state.resolutions += 1
        fact = new_fact(
            f"res:{conversation.id}:{state.resolutions}",
            "resolution",
            conversation,
            state.opened_at,
        )
        calendar, business = self.durations(state.calendar, state.opened_at, at)
        complete(fact, where, day, at, calendar, business)
        session.add(fact)
        await contribute(fact, sink)
        state.opened_at = None
        unanswered = await session.scalars(
            select(ReportFact)
            .where(ReportFact.conversation_id == conversation.id, ReportFact.state == "pending")
            .with_for_update()
        )
        for pending in unanswered:
            pending.state = "dropped"
        await self._sla_outcome(session, conversation, "resolution", at, where, sink)
        await session.flush()

    async def status_changed(
        self,
        session: AsyncSession,
        conversation: Conversation,
        previous: str,
        at: datetime,
        actor_id: int | None = None,
    ) -> None:
        """Call after ``set_status`` with the status the conversation had before."""
        resolved = ConversationStatus.RESOLVED
        if conversation.status == resolved and previous != resolved:
            await self.resolved(session, conversation, at, actor_id)
        elif previous == resolved and conversation.status != resolved:
            await self.reopened(session, conversation, at)

    async def reopened(
        self, session: AsyncSession, conversation: Conversation, at: datetime
    ) -> None:
        """An agent reopened a resolved conversation: a new resolution clock runs (a
        first-response clock starts with the customer's next message after a resolve only)."""
        state = await self._state(session, conversation.id)
        if state.opened_at is None and state.cycle > 0:
            state.cycle += 1
            state.opened_at = at

    async def _sla_outcome(
        self,
        session: AsyncSession,
        conversation: Conversation,
        metric: str,
        at: datetime,
        where: Slice,
        sink: Sink,
    ) -> None:
        """Met or breached, decided once per conversation and target: at the first delivered
        reply (first response) or the first resolve, against the SLA clock's due time."""
        clock = await session.get(SlaClock, conversation.id)
        if clock is None:
            return
        policy = sla.policy_named(self.settings, clock.policy)
        if policy is None:
            return
        minutes = (
            policy.first_response_minutes
            if metric == "first_response"
            else policy.resolution_minutes
        )
        if minutes is None:
            return
        first_due, resolution_due = sla.projected(clock, policy, self.settings, at)
        due = first_due if metric == "first_response" else resolution_due
        outcome = "met" if due is None or at <= due else "breached"
        fact = self._new_sla_fact(conversation, metric, outcome, at, where)
        await self._insert_sla_facts(session, [fact], sink)

    async def sla_breaches(self, session: AsyncSession, breaches: Sequence[Breach]) -> None:
        """The monitor saw targets pass unmet (first response or resolution), a sweep's at
        once: the states locked (the lock every fact writer takes first) and the slices read
        in one select each, the facts in one insert, their counters in one upsert."""
        wanted = [b for b in breaches if b.metric in SLA_METRICS]
        if not wanted:
            return
        conversations = [b.conversation for b in wanted]
        _, tags = await self._states(session, conversations, set())
        slices = await self._slices(session, conversations, set(), {}, tags)
        facts = [
            self._new_sla_fact(
                b.conversation, b.metric, "breached", b.due_at, slices[b.conversation.id]
            )
            for b in wanted
        ]
        sink = CountSink(session)
        await self._insert_sla_facts(session, facts, sink)
        await sink.write()

    def _new_sla_fact(
        self, conversation: Conversation, metric: str, outcome: str, at: datetime, where: Slice
    ) -> ReportFact:
        fact = new_fact(f"sla:{conversation.id}:{metric}", "sla", conversation, at)
        fact.metric, fact.outcome = metric, outcome
        complete(fact, where, self.day(at), at, None, None)
        return fact

    async def _insert_sla_facts(
        self, session: AsyncSession, facts: Sequence[ReportFact], sink: Sink
    ) -> None:
        """The facts not recorded yet, in one insert. Each is recorded once per conversation
        and target even when two writers decide at the same time (the SLA monitor and a reply,
        or two processes): the insert skips a row another writer added meanwhile, and only the
        writer whose row went in adds it to the rollups."""
        by_dedupe = {fact.dedupe: fact for fact in facts}
        there = set(
            await session.scalars(
                select(ReportFact.dedupe).where(ReportFact.dedupe.in_(sorted(by_dedupe)))
            )
        )
        rows = [
            {key: getattr(fact, key) for key in _FACT_COLUMNS}
            for dedupe, fact in by_dedupe.items()
            if dedupe not in there
        ]
        if not rows:
            return
        inserted = await session.scalars(
            insert_into(session, ReportFact)
            .on_conflict_do_nothing(index_elements=["dedupe"])
            .returning(ReportFact.dedupe),
            rows,
        )
        for dedupe in sorted(inserted.all()):
            await contribute(by_dedupe[dedupe], sink)

    async def csat_answer(
        self, session: AsyncSession, conversation: Conversation, score: int, at: datetime
    ) -> None:
        """A satisfaction score; a later answer replaces the earlier one in the figures."""
        sink = DbSink(session)
        dedupe = f"csat:{conversation.id}"
        fact = await session.scalar(
            select(ReportFact).where(ReportFact.dedupe == dedupe).with_for_update()
        )
        if fact is not None:
            await contribute(fact, sink, -1)
        else:
            fact = new_fact(dedupe, "csat", conversation, at)
            session.add(fact)
        where = await self.slice_of(session, conversation, conversation.assignee_id)
        fact.score = score
        fact.started_at = at
        complete(fact, where, self.day(at), at, None, None)
        await contribute(fact, sink)
        await session.flush()

    async def survey_sent(
        self, session: AsyncSession, conversation: Conversation, at: datetime
    ) -> None:
        where = await self.slice_of(session, conversation, conversation.assignee_id)
        fact = new_fact(f"survey:{conversation.id}:{at.isoformat()}", "survey", conversation, at)
        complete(fact, where, self.day(at), at, None, None)
        session.add(fact)
        await contribute(fact, DbSink(session))


def _clock_row(
    dedupe: str, kind: str, conversation: Conversational, at: datetime, message_id: int | None
) -> dict[str, Any]:
    """A pending clock's ``report_facts`` row (``new_fact``'s columns), every column named so
    the rows of a batch go in as one executemany."""
    return {
        "dedupe": dedupe,
        "kind": kind,
        "state": "pending",
        "conversation_id": conversation.id,
        "message_id": message_id,
        "response_id": None,
        "metric": "",
        "outcome": "",
        "score": None,
        "started_at": at,
        "ended_at": None,
        "day": None,
        "calendar_seconds": None,
        "business_seconds": None,
        "channel": conversation.channel,
        "team_id": conversation.team_id,
        "agent_id": None,
        "tier": "",
        "tags": [],
    }
