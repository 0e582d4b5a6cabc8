"""The periodic checks run by the job runner: SLA due times (warnings before, escalation on a
breach, every event recorded once), the assignment queue, and reassignment of conversations
whose assignee went offline or did not answer in time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import SlaPolicy
from hub.config.settings import PRIORITIES, Settings
from hub.core import sla
from hub.core.conversations import log_event
from hub.core.notices import notify, supervisors
from hub.core.transaction_memo import memo
from hub.db.models import Conversation, ConversationStatus, Direction, Message, Ticket
from hub.db.routing_models import ConversationRouting, Job, SlaClock, SlaEvent
from hub.platform.events import publish, written_together
from hub.platform.jobs import JobHandler, NewJob, Outcome, enqueue_together
from hub.reports.record import Breach, Reports
from hub.routing.assignment import drain_queue, offline_assignments, reassign
from hub.routing.sla_events import Due, event_of, record_together, unrecorded

NOTICE_JOB = "sla_notice"


async def _push(
    session: AsyncSession,
    conversation: Conversation,
    state: str,
    due_at: datetime | None,
    now: datetime,
    metric: str | None = None,
) -> None:
    """Tell open pages the SLA changed: a new due time, a target at risk, or a breach."""
    due = due_at.isoformat() if due_at else None
    await publish(session, "sla", conversation, now, state=state, due_at=due, metric=metric)


def _notice(event: SlaEvent, kind: str, text: str, policy: SlaPolicy) -> NewJob:
    """Tell the assignee and (unless the policy says not to) the team's supervisors: a job on
    the one queue, run in the same pass."""
    return NewJob(
        conversation_id=event.conversation_id,
        payload={"kind": kind, "text": text, "supervisors": policy.notify_supervisor},
        dedupe_key=f"{NOTICE_JOB}:{event.id}",
    )


async def _notices_along(session: AsyncSession, jobs: list[Job]) -> None:
    """The conversations of a group of notices, in one read (each delivery reads its own
    otherwise, and the read flushes the notices before it one at a time)."""
    ids = sorted({job.conversation_id for job in jobs if job.conversation_id is not None})
    if ids:
        found = await session.scalars(select(Conversation).where(Conversation.id.in_(ids)))
        memo(session)["notice_conversations"] = found.all()  # held: the session's map is weak


async def lock_conversations(session: AsyncSession, ids: list[int]) -> list[Conversation]:
    """The conversations a sweep will change, locked first and in id order: every writer takes
    a conversation's row before its clock and ticket (a reply, a status change), so the sweep
    does too, or two of them deadlock on PostgreSQL. Rows that only refer to the conversation
    (facts, events) still go in meanwhile."""
    if not ids:
        return []
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.id.in_(ids))
        .order_by(Conversation.id)
        .with_for_update(key_share=True)  # FOR NO KEY UPDATE: inserts that refer to it go on
    )
    return list(rows.all())


class Monitor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fallback = settings.routing.assignment.sticky_fallback
        self.reports = Reports(settings)

    async def sla(self, session: AsyncSession, now: datetime) -> None:
        await self.recompute(session, now)
        # Only the clocks with a warning or breach to record by now (an index): a backlog of
        # open conversations costs nothing until one of them is due.
        due = (
            await session.scalars(
                select(SlaClock)
                .where(SlaClock.alert_at <= now)
                .order_by(SlaClock.alert_at)
                .limit(1000)
            )
        ).all()
        if not due:
            return
        locked = await lock_conversations(session, [clock.conversation_id for clock in due])
        found: list[Due] = []
        for clock in due:
            policy = sla.policy_named(self.settings, clock.policy)
            clock.alert_at = None if policy is None else sla.next_alert(clock, policy, now)
            if policy is None:
                continue
            for metric, due_at in sla.due_times(clock).items():
                if due_at is None:
                    continue
                if due_at <= now:
                    found.append(Due(clock, policy, metric, "breach", due_at))
                elif due_at - timedelta(minutes=policy.warn_before_minutes) <= now:
                    found.append(Due(clock, policy, metric, "warning", due_at))
        fresh = await unrecorded(session, found)
        if not fresh:
            return
        conversations = {conversation.id: conversation for conversation in locked}
        notices: list[NewJob] = []
        async with written_together(session):
            recorded = await record_together(session, fresh, conversations, now)
            if recorded is None:  # another process recorded some meanwhile: one at a time
                for item in fresh:
                    await self._event(session, item, now, notices)
            else:
                breaches = [
                    Breach(conversations[item.clock.conversation_id], item.metric, item.due_at)
                    for item, _ in recorded
                    if item.kind == "breach"
                ]
                await self.reports.sla_breaches(session, breaches)
                for item, event in recorded:
                    conversation = conversations[item.clock.conversation_id]
                    await self._announce(session, item, event, conversation, now, notices)
            await enqueue_together(session, NOTICE_JOB, now, notices)

    async def recompute(self, session: AsyncSession, now: datetime) -> None:
        """Due times of the clocks whose facts changed, written to the conversation's
        ``sla_due_at`` and to its ticket."""
        dirty = (
            await session.scalars(select(SlaClock).where(SlaClock.dirty.is_(True)).limit(1000))
        ).all()
        if not dirty:
            return
        ids = [clock.conversation_id for clock in dirty]
        conversations = await lock_conversations(session, ids)
        tickets = {
            ticket.conversation_id: ticket
            for ticket in (
                await session.scalars(
                    select(Ticket).where(Ticket.conversation_id.in_(ids)).order_by(Ticket.id)
                )
            ).all()
        }
        by_id = {conversation.id: conversation for conversation in conversations}
        for clock in dirty:
            policy = sla.policy_named(self.settings, clock.policy)
            if policy is None:
                clock.dirty = False
                continue
            sla.recompute(clock, policy, self.settings)
            ticket = tickets.get(clock.conversation_id)
            if ticket is not None:
                sla.sync_ticket(ticket, clock, policy, self.settings, now)
            conversation = by_id.get(clock.conversation_id)
            if conversation is not None:
                due = sla.next_due(conversation, clock, ticket)
                if due != conversation.sla_due_at:
                    conversation.sla_due_at = due
                    await _push(session, conversation, "due", due, now)

    async def _event(
        self, session: AsyncSession, due: Due, now: datetime, notices: list[NewJob]
    ) -> None:
        """Record one event unless it is there already (another process's sweep)."""
        if not await unrecorded(session, [due]):
            return
        conversation = await session.get(Conversation, due.clock.conversation_id)
        assert conversation is not None
        event = event_of(due, conversation, now)
        try:
            async with session.begin_nested():
                session.add(event)
                await session.flush()
        except IntegrityError:
            return  # recorded by another process
        if due.kind == "breach":
            await self.reports.sla_breaches(session, [Breach(conversation, due.metric, due.due_at)])
        await self._announce(session, due, event, conversation, now, notices)

    async def _announce(
        self,
        session: AsyncSession,
        due: Due,
        event: SlaEvent,
        conversation: Conversation,
        now: datetime,
        notices: list[NewJob],
    ) -> None:
        """What a recorded event does: open pages hear of it, the timeline says it, the
        assignee and supervisors get a notice, and a breach (reported already) is escalated."""
        await _push(session, conversation, due.kind, due.due_at, now, metric=due.metric)
        label = due.metric.replace("_", " ")
        policy = due.policy
        if due.kind == "warning":
            text = f"SLA at risk: {label} due at {due.due_at:%Y-%m-%d %H:%M} UTC ({policy.name})"
            await log_event(session, conversation, text, now)
            notices.append(_notice(event, "sla_warning", text, policy))
            return
        text = f"SLA breached: {label} was due at {due.due_at:%Y-%m-%d %H:%M} UTC ({policy.name})"
        await log_event(session, conversation, text, now)
        notices.append(_notice(event, "sla_breach", text, policy))
        await self._escalate(session, conversation, policy, label, now)

    def handlers(self) -> dict[str, JobHandler]:
        return {NOTICE_JOB: JobHandler(self._deliver_notice, read_along=_notices_along)}

    async def _deliver_notice(
        self, session: AsyncSession, job: Job, _: Any, now: datetime
    ) -> Outcome:
        conversation = await session.get(Conversation, job.conversation_id)
        if conversation is None:
            return Outcome("skipped", "conversation gone")
        kind, text = str(job.payload["kind"]), str(job.payload["text"])
        people = [conversation.assignee_id] if conversation.assignee_id is not None else []
        if job.payload.get("supervisors", True):
            people += [
                s for s in await supervisors(session, conversation.team_id) if s not in people
            ]
        for agent_id in people:
            notify(session, agent_id, kind, text, now, conversation.id)
        await publish(
            session,
            "notice",
            conversation,
            now,
            agent_ids=people,
            notice=kind,
            text=text,
            recipients=people,
        )
        return Outcome("done", f"notified {len(people)}")

    async def _escalate(
        self,
        session: AsyncSession,
        conversation: Conversation,
        policy: SlaPolicy,
        label: str,
        now: datetime,
    ) -> None:
        if policy.raise_priority and conversation.priority in PRIORITIES[:-1]:
            raised = PRIORITIES[list(PRIORITIES).index(conversation.priority) + 1]
            text = f"Priority raised to {raised}"
            await log_event(
                session,
                conversation,
                text,
                now,
                priority=raised,
                previous_priority=conversation.priority,
            )
            conversation.priority = raised
        if policy.reassign and conversation.status == ConversationStatus.OPEN:
            await reassign(
                session,
                conversation,
                f"SLA breach ({label})",
                now,
                sticky_fallback=self.fallback,
                keep_if_nobody=True,
            )

    async def queue(self, session: AsyncSession, now: datetime) -> None:
        await drain_queue(session, now, sticky_fallback=self.fallback)

    async def reassignments(self, session: AsyncSession, now: datetime) -> None:
        settings = self.settings.routing.assignment
        if settings.reassign_offline:
            for conversation in await offline_assignments(session):
                await reassign(
                    session,
                    conversation,
                    "the assignee is offline",
                    now,
                    sticky_fallback=self.fallback,
                )
        if settings.reassign_after_minutes is None:
            return
        limit = now - timedelta(minutes=settings.reassign_after_minutes)
        answered = exists().where(
            Message.conversation_id == Conversation.id,
            Message.direction == Direction.OUTBOUND,
            Message.author_agent_id == Conversation.assignee_id,
            Message.created_at >= ConversationRouting.assigned_at,
        )
        stale = (
            await session.scalars(
                select(Conversation)
                .join(ConversationRouting, ConversationRouting.conversation_id == Conversation.id)
                .where(
                    Conversation.status == ConversationStatus.OPEN,
                    Conversation.assignee_id.is_not(None),
                    and_(
                        ConversationRouting.assigned_to == Conversation.assignee_id,
                        ConversationRouting.assigned_at <= limit,
                    ),
                    ~answered,
                )
                .order_by(Conversation.id)
                .limit(500)
            )
        ).all()
        for conversation in stale:
            minutes = settings.reassign_after_minutes
            await reassign(
                session,
                conversation,
                f"no answer from the assignee within {minutes} minutes",
                now,
                sticky_fallback=self.fallback,
                keep_if_nobody=True,
            )
