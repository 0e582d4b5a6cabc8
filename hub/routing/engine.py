"""The routing engine as the pipeline uses it: for a new conversation, evaluate the rules and
carry out the actions (team, priority, tags, category, spam, template, bot, assignment, SLA
clock); for every customer message, keep the SLA's next-response clock, let a bot that holds
the conversation answer, and take a digit reply to a survey as a satisfaction score."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import InboundMessage
from hub.config.settings import Settings
from hub.core import sla
from hub.core.calendar import BusinessCalendar, calendar_named
from hub.core.conversations import log_event, set_status
from hub.core.staff import team_id_for
from hub.core.transaction_memo import is_new_customer, returning_known
from hub.db.models import Conversation, ConversationStatus, Customer, Message
from hub.db.routing_models import ConversationRouting, SlaClock
from hub.outbound.automated import AutomatedSender, Purpose, Template
from hub.outbound.templates import TemplateRenderer
from hub.platform.clock import Clock
from hub.reports.record import Reports
from hub.routing import csat
from hub.routing.acknowledgements import Acknowledgements
from hub.routing.assignment import assign_or_queue, expect_cursors
from hub.routing.bots.gateway import BotGateway, BotPlugin
from hub.routing.rules import Actions, Facts
from hub.routing.rules_store import RuleStore, bots_enabled, versions


class RoutingEngine:
    def __init__(
        self, settings: Settings, clock: Clock, templates: TemplateRenderer | None = None
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.templates = templates or TemplateRenderer(settings.templates_dir)
        self.automated = AutomatedSender(settings, self.templates)
        self.acknowledgements = Acknowledgements(settings, self.automated)
        self.rules = RuleStore(settings)
        self.bots = BotGateway(settings, self.automated)
        self.plugin: BotPlugin | None = None  # registered bots (hub/bots/), set by the assembly
        self.fallback = settings.routing.assignment.sticky_fallback
        self.reports = Reports(settings)
        # Team slug -> id: teams are never renamed or deleted, so a found id stays true; a slug
        # not found stays missing while the newest team (read with the ruleset version) does.
        self._team_ids: dict[str, int] = {}
        self._absent_teams: tuple[int | None, set[str]] = (None, set())

    @property
    def hours(self) -> BusinessCalendar:
        """Read each time: an admin may change the calendars while the hub runs."""
        return calendar_named(self.settings.calendars, self.settings.routing.calendar)

    async def facts(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        now: datetime,
    ) -> Facts:
        config = self.settings.channels.get(inbound.channel)
        recipients = {str(getattr(config, "address", "") or "").lower()}
        for key in ("to", "recipient", "recipients"):
            value = inbound.raw.get(key)
            values = value if isinstance(value, list) else [value]
            recipients.update(str(v).lower() for v in values if isinstance(v, str))
        if is_new_customer(session, customer.id):
            # Created in this transaction: all its conversations are in the session.
            returning = any(
                isinstance(row, Conversation)
                and row.customer_id == customer.id
                and row is not conversation
                for row in session.sync_session
            )
        elif (known := returning_known(session, customer.id)) is not None:
            returning = known  # read for the whole batch
        else:
            previous = await session.scalar(
                select(Conversation.id)
                .where(Conversation.customer_id == customer.id, Conversation.id != conversation.id)
                .limit(1)
            )
            returning = previous is not None
        language = inbound.raw.get("language") or inbound.raw.get("locale") or customer.locale
        return Facts(
            channel=inbound.channel,
            channel_kind=config.kind if config else "",
            text=f"{inbound.subject or ''}\n{inbound.text}",
            recipients=frozenset(recipients - {""}),
            tier=customer.tier,
            tags=frozenset(customer.tags or ()),
            attributes={k: str(v) for k, v in (customer.attributes or {}).items()},
            language=str(language or "en").split("-")[0].lower(),
            inside_hours=self.hours.is_open(now),
            returning=returning,
            has_attachment=bool(inbound.attachments),
        )

    async def route_new(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        now: datetime,
    ) -> Actions:
        """Decide and act for a new conversation (in the ingest transaction)."""
        answered = await self._survey_answer(session, inbound, customer, conversation, now)
        if answered is not None:
            return answered
        # Neither read depends on what this message added: what is pending goes out in the
        # next flush with the routing rows.
        with session.no_autoflush:
            _, ruleset = await self.rules.current(session)
            facts = await self.facts(session, inbound, customer, conversation, now)
            actions = ruleset.decide(facts)
            team_id = await self._team_id(session, actions.team)
        conversation.priority = actions.priority
        conversation.team_id = team_id
        bot = None if actions.spam else actions.bot or self.bots.bot_for_channel(inbound.channel)
        routing = ConversationRouting(
            conversation_id=conversation.id,
            rule=actions.rule,
            strategy=actions.assign,
            skills=list(actions.skills),
            tags=list(actions.tags),
            bot=bot,
            bot_active=bot is not None,
            spam=actions.spam,
            created_at=now,
        )
        session.add(routing)
        # The SLA clock before the bots are read: the conversation's team and due time then go
        # out in one UPDATE (spam starts none: it is resolved below).
        if not actions.spam:
            self._start_sla(session, conversation, customer, actions, now)
        plugin = None if bot is not None or actions.spam else self.plugin
        if (
            plugin is not None
            and await bots_enabled(session)  # none enabled: no need to read them
            and await plugin.claim(session, conversation, routing, actions.team, now)
        ):
            bot = routing.bot
        if actions.rule is not None:
            await log_event(session, conversation, f"Routed by rule {actions.rule!r}", now)
        if actions.tags:
            await log_event(session, conversation, "Tagged " + ", ".join(actions.tags), now)
        if actions.spam:
            await log_event(session, conversation, f"Marked as spam by rule {actions.rule!r}", now)
            await set_status(session, conversation, ConversationStatus.RESOLVED, now)
            # no report clock started: spam never counts
            return actions
        if bot is None:
            # Every team this batch may move the cursor of is locked with the first move.
            expect_cursors(session, slugs=ruleset.cursor_teams)
            await assign_or_queue(
                session, conversation, routing, now, sticky_fallback=self.fallback, batch=True
            )
        if actions.template:
            await self.send_template(session, conversation, customer, actions.template, now)
        return actions

    def _start_sla(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        actions: Actions,
        now: datetime,
    ) -> None:
        policy = sla.policy_for(self.settings, actions.priority, customer.tier, actions.team)
        if policy is not None:
            clock = sla.start_clock(session, conversation, policy, now)
            sla.recompute(clock, policy, self.settings)
            conversation.sla_due_at = sla.next_due(conversation, clock, None)
            clock.dirty = True  # the monitor writes the due times to the ticket

    async def _team_id(self, session: AsyncSession, slug: str) -> int | None:
        found = self._team_ids.get(slug)
        if found is None:
            _, newest = await versions(session)
            if self._absent_teams[0] != newest:
                self._absent_teams = (newest, set())
            absent = self._absent_teams[1]
            if slug in absent:  # asked already, and no team was added since
                return None
            found = await team_id_for(session, slug)
            if found is not None:
                self._team_ids[slug] = found
            else:
                absent.add(slug)
        return found

    async def _survey_answer(
        self,
        session: AsyncSession,
        inbound: InboundMessage,
        customer: Customer,
        conversation: Conversation,
        now: datetime,
    ) -> Actions | None:
        """A bare digit from a customer with an unanswered survey (on a channel that does not
        thread replies) is the answer: recorded there, and this conversation closed at once."""
        score = csat.digit_reply(inbound.text)
        if score is None:
            return None
        surveyed = await csat.surveyed_conversation(session, customer.id, conversation.id)
        if surveyed is None:
            return None
        await csat.record(session, surveyed, score, "reply", now)
        target = await session.get(Conversation, surveyed)
        assert target is not None
        await self.reports.csat_answer(session, target, score, now)
        await log_event(session, target, f"Satisfaction score {score} (reply)", now)
        routing = self.settings.routing
        session.add(
            ConversationRouting(
                conversation_id=conversation.id, strategy="none", skills=[], tags=[], created_at=now
            )
        )
        await log_event(session, conversation, f"Satisfaction answer for #{surveyed}", now)
        await set_status(session, conversation, ConversationStatus.RESOLVED, now)
        return Actions(
            None, None, routing.default_team, routing.default_priority, open_ticket=False
        )

    async def preload(self, session: AsyncSession, conversation_ids: set[int]) -> list[object]:
        """Load the rows ``after_inbound`` reads for a whole batch, in two queries, so each
        message finds them in the session instead of asking the database. The session holds
        rows weakly: keep the returned list while the batch runs."""
        if not conversation_ids:
            return []
        clocks = select(SlaClock).where(SlaClock.conversation_id.in_(conversation_ids))
        routes = select(ConversationRouting).where(
            ConversationRouting.conversation_id.in_(conversation_ids)
        )
        return [*(await session.scalars(clocks)).all(), *(await session.scalars(routes)).all()]

    async def after_inbound(
        self, session: AsyncSession, message: Message, conversation: Conversation, now: datetime
    ) -> None:
        """Every stored customer message (flushed), new conversation or not."""
        if message.automated:
            return
        score = csat.digit_reply(message.text)
        if score is not None and await csat.awaiting(session, conversation.id, message.id):
            await csat.record(session, conversation.id, score, "reply", now)
            await self.reports.csat_answer(session, conversation, score, now)
            await log_event(session, conversation, f"Satisfaction score {score} (reply)", now)
            await set_status(session, conversation, ConversationStatus.RESOLVED, now)
            return
        await sla.note_customer_message(session, conversation.id, now)
        routing = await session.get(ConversationRouting, conversation.id)
        served = routing is not None and (routing.bot_active or routing.bot is not None)
        plugin = self.plugin if served else None
        if plugin and routing and await plugin.turn(session, conversation, routing, message, now):
            return
        if routing is not None and routing.bot_active:
            customer = await session.get(Customer, conversation.customer_id)
            assert customer is not None
            await self.bots.turn(session, conversation, routing, message, customer, now)

    async def send_template(
        self,
        session: AsyncSession,
        conversation: Conversation,
        customer: Customer,
        name: str,
        now: datetime,
    ) -> Message | None:
        """The rule action "send a template"."""
        context = {
            "customer": {"name": customer.name, "locale": customer.locale},
            "conversation": {"id": conversation.id, "subject": conversation.subject},
            "instance_name": self.settings.instance_name,
            "channel": {"name": conversation.channel},
            "inside_hours": self.hours.is_open(now),
        }
        template = Template(name, context, customer.locale)
        sent = await self.automated.send(
            session, conversation, template, Purpose(f"Template {name}"), now
        )
        return sent.message
