"""The periodic checks run by the job runner: SLA due times (warnings before, escalation on a
breach, every event recorded once), the assignment queue, and reassignment of conversations
whose assignee went offline or did not answer in time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import SlaPolicy
from hub.config.settings import PRIORITIES, Settings
from hub.core import sla
from hub.core.conversations import log_event
from hub.core.notices import notify, supervisors
from hub.db.models import Conversation, ConversationStatus, Direction, Message, Ticket
from hub.db.routing_models import ConversationRouting, SlaClock, SlaEvent
from hub.reports.record import Reports
from hub.routing.assignment import drain_queue, offline_assignments, reassign

LOOKAHEAD = timedelta(days=1)  # no policy warns earlier than this before a due time


class Monitor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fallback = settings.routing.assignment.sticky_fallback
        self.reports = Reports(settings)

    async def sla(self, session: AsyncSession, now: datetime) -> None:
        await self.recompute(session, now)
        horizon = now + LOOKAHEAD
        due = (
            await session.scalars(
                select(SlaClock)
                .where(
                    or_(
                        SlaClock.first_due_at <= horizon,
                        SlaClock.next_due_at <= horizon,
                        SlaClock.resolution_due_at <= horizon,
                    )
                )
                .limit(1000)
            )
        ).all()
        for clock in due:
            policy = sla.policy_named(self.settings, clock.policy)
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
        conversations = (
            await session.scalars(select(Conversation).where(Conversation.id.in_(ids)))
        ).all()
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
                conversation.sla_due_at = sla.next_due(conversation, clock, ticket)

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
        if kind == "warning":
            text = f"SLA warning: {label} due at {due_at:%Y-%m-%d %H:%M} UTC"
            await log_event(session, conversation, text, now)
            if conversation.assignee_id is not None:
                notify(session, conversation.assignee_id, "sla_warning", text, now, conversation.id)
            return
        await self.reports.sla_breached(session, conversation, metric, due_at)
        await self._escalate(session, conversation, policy, label, due_at, now)

    async def _escalate(
        self,
        session: AsyncSession,
        conversation: Conversation,
        policy: SlaPolicy,
        label: str,
        due_at: datetime,
        now: datetime,
    ) -> None:
        text = f"SLA breached: {label} was due at {due_at:%Y-%m-%d %H:%M} UTC ({policy.name})"
        await log_event(session, conversation, text, now)
        if policy.notify_supervisor:
            for supervisor in await supervisors(session, conversation.team_id):
                notify(session, supervisor, "sla_breach", text, now, conversation.id)
        if policy.raise_priority and conversation.priority in PRIORITIES[:-1]:
            raised = PRIORITIES[list(PRIORITIES).index(conversation.priority) + 1]
            await log_event(session, conversation, f"Priority raised to {raised}", now)
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
