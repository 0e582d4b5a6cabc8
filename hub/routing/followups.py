"""Follow-up jobs: when a conversation becomes pending or resolved, or an agent replies, the
configured ``[[followups.rules]]`` for that trigger are scheduled as jobs (reminders, automatic
resolution, satisfaction surveys). A job that comes due first checks that the conversation has
not moved on - same status, no newer message from a person - then acts once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.routing import FollowupRule
from hub.config.settings import Settings
from hub.core.conversations import anchor_message, log_event, set_status
from hub.core.tickets import ticket_for
from hub.db.models import Conversation, ConversationStatus, Customer
from hub.db.routing_models import Job
from hub.outbound.automated import AutomatedSender, Purpose, Template
from hub.outbound.templates import TemplateRenderer
from hub.platform.jobs import JobHandler, Outcome, enqueue
from hub.reports.record import Reports
from hub.routing import csat

TRIGGER_STATUS = {"pending": ConversationStatus.PENDING, "resolved": ConversationStatus.RESOLVED}


class Followups:
    def __init__(self, settings: Settings, templates: TemplateRenderer) -> None:
        self.settings = settings
        self.sender = AutomatedSender(settings, templates)
        self.reports = Reports(settings)

    def handlers(self) -> dict[str, JobHandler]:
        return {
            "status_changed": JobHandler(self._on_status),
            "agent_replied": JobHandler(self._on_reply),
            # A follow-up's row is the record of the survey or reminder sent (the reports'
            # rebuild and a digit reply to a survey read it; its key keeps one from being
            # scheduled twice for the same message): kept once it ran.
            "followup": JobHandler(self._fire, keep_finished=True),
        }

    def _rule(self, name: str) -> FollowupRule | None:
        return next((r for r in self.settings.followups.rules if r.name == name), None)

    async def _on_status(self, session: AsyncSession, job: Job, _: Any, now: datetime) -> Outcome:
        trigger = str(job.payload["status"])
        return await self._schedule(session, job, trigger, now)

    async def _on_reply(self, session: AsyncSession, job: Job, _: Any, now: datetime) -> Outcome:
        return await self._schedule(session, job, "agent_reply", now)

    async def _schedule(
        self, session: AsyncSession, job: Job, trigger: str, now: datetime
    ) -> Outcome:
        conversation = await session.get(Conversation, job.conversation_id)
        if conversation is None:
            return Outcome("skipped", "conversation gone")
        anchor = int(job.payload["anchor"])
        at = datetime.fromisoformat(str(job.payload["at"]))
        scheduled = 0
        for rule in self.settings.followups.rules:
            if rule.trigger != trigger or (
                rule.channels and conversation.channel not in rule.channels
            ):
                continue
            if rule.action == "survey" and await csat.answered(session, conversation.id):
                continue
            prefix = "survey" if rule.action == "survey" else "followup"
            created = await enqueue(
                session,
                "followup",
                at + timedelta(minutes=rule.delay_minutes),
                conversation_id=conversation.id,
                payload={"rule": rule.name, "anchor": anchor, "trigger": trigger},
                dedupe_key=f"{prefix}:{conversation.id}:{anchor}:{rule.name}",
                now=now,
            )
            scheduled += created is not None
        return Outcome("done", f"scheduled {scheduled} follow-up(s)")

    async def _moved_on(
        self, session: AsyncSession, conversation: Conversation, rule: FollowupRule, job: Job
    ) -> str | None:
        wanted = TRIGGER_STATUS.get(rule.trigger)
        if wanted is not None and conversation.status != wanted:
            return f"conversation is {conversation.status}, not {wanted.value}"
        if rule.trigger == "agent_reply" and conversation.status == ConversationStatus.RESOLVED:
            return "conversation is resolved"
        if await anchor_message(session, conversation.id) != int(job.payload["anchor"]):
            return "a newer message arrived"
        if rule.action == "survey" and await csat.answered(session, conversation.id):
            return "already rated"
        return None

    async def _fire(self, session: AsyncSession, job: Job, _: Any, now: datetime) -> Outcome:
        rule = self._rule(str(job.payload["rule"]))
        conversation = await session.get(Conversation, job.conversation_id)
        if rule is None or conversation is None:
            return Outcome("skipped", "rule or conversation no longer exists")
        reason = await self._moved_on(session, conversation, rule, job)
        if reason is not None:
            return Outcome("skipped", reason)
        if rule.action == "resolve":
            await log_event(session, conversation, f"Resolved automatically ({rule.name})", now)
            previous = conversation.status
            await set_status(session, conversation, ConversationStatus.RESOLVED, now)
            await self.reports.status_changed(session, conversation, previous, now)
            if rule.template is None:
                return Outcome("done", "resolved")
        if rule.template is None:
            return Outcome("skipped", "rule has no template")
        return await self._send(session, conversation, rule, now)

    async def context(
        self, session: AsyncSession, conversation: Conversation, customer: Customer
    ) -> dict[str, Any]:
        ticket = await ticket_for(session, conversation.id)
        config = self.settings.channels.get(conversation.channel)
        return {
            "customer": {"name": customer.name, "locale": customer.locale},
            "conversation": {"id": conversation.id, "subject": conversation.subject},
            "ticket": {"number": ticket.number if ticket else None},
            "instance_name": self.settings.instance_name,
            "channel": {
                "name": conversation.channel,
                "title": (config.title if config else "") or conversation.channel,
            },
            "survey": {
                "links": csat.survey_links(
                    self.settings.web.public_url, self.settings.secret_key, conversation.id
                )
            },
        }

    async def _send(
        self, session: AsyncSession, conversation: Conversation, rule: FollowupRule, now: datetime
    ) -> Outcome:
        assert rule.template is not None
        customer = await session.get(Customer, conversation.customer_id)
        assert customer is not None
        context = await self.context(session, conversation, customer)
        purpose = Purpose(
            f"Follow-up {rule.name}",
            notice=f"Follow-up {rule.name!r}",
            no_address=f"Follow-up {rule.name}: no address",
        )
        template = Template(rule.template, context, customer.locale)
        sent = await self.sender.send(session, conversation, template, purpose, now)
        if sent.failure is not None:
            return Outcome("failed", sent.failure)
        if sent.message is None:
            return Outcome("skipped", f"no address for {sent.via}")
        if rule.action == "survey":
            await self.reports.survey_sent(session, conversation, now)
        return Outcome("done", f"sent message {sent.message.id}")
