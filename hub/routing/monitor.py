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
from hub.db.models import Conversation, ConversationStatus, Direction, Message, Ticket
from hub.db.routing_models import ConversationRouting, Job, SlaClock, SlaEvent
from hub.platform.events import publish
from hub.platform.jobs import JobHandler, Outcome, enqueue
from hub.reports.record import Reports
from hub.routing.assignment import drain_queue, offline_assignments, reassign

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
        await lock_conversations(session, [clock.conversation_id for clock in due])
        for clock in due:
            policy = sla.policy_named(self.settings, clock.policy)
            clock.alert_at = None if policy is None else sla.next_alert(clock, policy, now)
            if policy is None:
                continue
            for metric, due_at in sla.due_times(clock).items():
                if due_at is None:
                    continue
                if due_at <= now:
                    await self._event(session, clock, policy, metric, "breach", due_at, now)
                elif due_at - timedelta(minutes=policy.warn_before_minutes) <= now:
                    await self._event(session, clock, policy, metric, "warning", due_at, now)

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
        self,
        session: AsyncSession,
        clock: SlaClock,
        policy: SlaPolicy,
        metric: str,
        kind: str,
        due_at: datetime,
        now: datetime,
    ) -> None:
        seen = await session.scalar(
            select(
                exists().where(
                    SlaEvent.conversation_id == clock.conversation_id,
                    SlaEvent.metric == metric,
                    SlaEvent.kind == kind,
                    SlaEvent.due_at == due_at,
                )
            )
        )
        if seen:
            return
        conversation = await session.get(Conversation, clock.conversation_id)
        assert conversation is not None
        event = SlaEvent(
            conversation_id=conversation.id,
            metric=metric,
            kind=kind,
            policy=policy.name,
            priority=conversation.priority,
            team_id=conversation.team_id,
            assignee_id=conversation.assignee_id,
            due_at=due_at,
            occurred_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(event)
                await session.flush()
        except IntegrityError:
            return  # recorded by another process
        label = metric.replace("_", " ")
        await _push(session, conversation, kind, due_at, now, metric=metric)
        if kind == "warning":
            text = f"SLA at risk: {label} due at {due_at:%Y-%m-%d %H:%M} UTC ({policy.name})"
            await log_event(session, conversation, text, now)
            await self._notice(session, event, "sla_warning", text, policy, now)
            return
        await self.reports.sla_breached(session, conversation, metric, due_at)
        await self._escalate(session, conversation, policy, event, label, due_at, now)

    async def _notice(
        self,
        session: AsyncSession,
        event: SlaEvent,
        kind: str,
        text: str,
        policy: SlaPolicy,
        now: datetime,
    ) -> None:
        """Tell the assignee and (unless the policy says not to) the team's supervisors: a job
        on the one queue, run in the same pass."""
        await enqueue(
            session,
            NOTICE_JOB,
            now,
            conversation_id=event.conversation_id,
            payload={"kind": kind, "text": text, "supervisors": policy.notify_supervisor},
            dedupe_key=f"{NOTICE_JOB}:{event.id}",
        )

    def handlers(self) -> dict[str, JobHandler]:
        return {NOTICE_JOB: JobHandler(self._deliver_notice)}

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
        event: SlaEvent,
        label: str,
        due_at: datetime,
        now: datetime,
    ) -> None:
        text = f"SLA breached: {label} was due at {due_at:%Y-%m-%d %H:%M} UTC ({policy.name})"
        await log_event(session, conversation, text, now)
        await self._notice(session, event, "sla_breach", text, policy, now)
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
