"""The bot gateway: while a bot holds a conversation, each customer message goes to it. The FAQ
bot answers inside the ingest transaction; an external bot is asked by a job (so no transaction
waits on HTTP). Whatever a bot says is an outbound message in the conversation, marked with
the bot's name; a hand-off is logged and the conversation is assigned (or queued) as usual."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.tickets import reply_subject
from hub.db.models import Conversation, Customer, Message
from hub.db.routing_models import ConversationRouting, Job
from hub.outbound.automated import AutomatedSender, Purpose, Text
from hub.platform.jobs import JobHandler, JobView, Outcome, enqueue
from hub.platform.targets import Targets
from hub.routing.assignment import assign_or_queue
from hub.routing.bots.connector import BotConnector, BotReply
from hub.routing.bots.faq import FaqBot


class BotPlugin(Protocol):
    """Bots registered in the database (hub/bots/): the engine offers them each new
    conversation and each customer message first; True means the plugin took it."""

    async def claim(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        team: str,
        now: datetime,
    ) -> bool: ...

    async def turn(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        message: Message,
        now: datetime,
    ) -> bool: ...


class BotGateway:
    def __init__(self, settings: Settings, sender: AutomatedSender) -> None:
        self.settings = settings
        self.sender = sender
        self.faq = FaqBot(settings.bots.faq)
        targets = Targets.of(settings.outgoing)
        self.connectors = {
            name: BotConnector(name, config, targets)
            for name, config in settings.bots.connectors.items()
        }

    def bot_for_channel(self, channel: str) -> str | None:
        for name, connector in self.connectors.items():
            if channel in connector.settings.channels:
                return name
        return None

    def handlers(self) -> dict[str, JobHandler]:
        return {"bot_forward": JobHandler(self._apply_reply, self._ask)}

    async def hand_off(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        reason: str,
        now: datetime,
    ) -> None:
        routing.bot_active = False
        await log_event(session, conversation, f"Bot {routing.bot} handed over: {reason}", now)
        await assign_or_queue(
            session,
            conversation,
            routing,
            now,
            sticky_fallback=self.settings.routing.assignment.sticky_fallback,
        )

    async def say(
        self, session: AsyncSession, conversation: Conversation, bot: str, text: str, now: datetime
    ) -> Message | None:
        """Queue what the bot said, marked with its name; None when nobody can be reached."""
        words = Text(text.strip() + "\n", reply_subject(conversation, None))
        sent = await self.sender.send(
            session, conversation, words, Purpose(f"Bot {bot} answer", raw={"bot": bot}), now
        )
        return sent.message

    async def turn(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        message: Message,
        customer: Customer,
        now: datetime,
    ) -> None:
        """Give one customer message to the bot that holds the conversation."""
        bot = routing.bot or ""
        if bot in self.connectors:
            await enqueue(
                session,
                "bot_forward",
                now,
                conversation_id=conversation.id,
                payload={
                    "bot": bot,
                    "sender": conversation.token,
                    "text": message.text,
                    "channel": conversation.channel,
                },
                dedupe_key=f"bot:{message.id}",
            )
            return
        answer = self.faq.match(message.text, await self.faq.entries(session), customer.locale)
        if answer.handoff or answer.answer is None:
            await self.hand_off(session, conversation, routing, answer.reason, now)
            return
        said = await self.say(session, conversation, "faq", answer.answer, now)
        if said is None:
            await self.hand_off(session, conversation, routing, "no address to answer", now)
            return
        text = f"Bot faq answered with entry #{answer.entry_id} (score {answer.score})"
        await log_event(session, conversation, text, now)

    async def _ask(self, view: JobView) -> BotReply:
        connector = self.connectors.get(str(view.payload["bot"]))
        if connector is None:
            return BotReply((), True, "bot is no longer configured")
        return await connector.ask(view)

    async def _apply_reply(
        self, session: AsyncSession, job: Job, reply: Any, now: datetime
    ) -> Outcome:
        assert isinstance(reply, BotReply)
        conversation = await session.get(Conversation, job.conversation_id)
        routing = await session.get(ConversationRouting, job.conversation_id)
        bot = str(job.payload["bot"])
        if conversation is None or routing is None or not routing.bot_active or routing.bot != bot:
            return Outcome("skipped", "the bot no longer holds the conversation")
        for text in reply.texts:
            if await self.say(session, conversation, bot, text, now) is None:
                await self.hand_off(session, conversation, routing, "no address to answer", now)
                return Outcome("done", "handed off: no address")
        if reply.error is not None or reply.handoff:
            await self.hand_off(session, conversation, routing, reply.error or "bot asked", now)
            return Outcome("done", f"relayed {len(reply.texts)}, handed off")
        return Outcome("done", f"relayed {len(reply.texts)} repl(ies)")
