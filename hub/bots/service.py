"""The bot gateway as the routing engine sees it: a registered, enabled bot serving the channel
(and team) takes a new conversation; each customer message, button press and handoff becomes a
signed event delivered to the bot by a ``bot_event`` job (timeout, retries with backoff, a
delivery log row per attempt); what the bot answers is said as the bot, while it still holds
the conversation. The FAQ bot answers inside the ingest transaction."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.bots import handoff, progress, rendering, schedule, signing, texts, wire
from hub.bots.book import BotBook
from hub.bots.client import Answer, BotClient
from hub.config.settings import Settings
from hub.core.conversations import log_event
from hub.core.tickets import reply_subject
from hub.db.bots_models import Bot, BotDelivery, BotSession
from hub.db.models import Conversation, Direction, Message
from hub.db.routing_models import ConversationRouting, Job
from hub.outbound.automated import Purpose, Text
from hub.outbound.compose import reply_route
from hub.platform.clock import Clock
from hub.platform.database import Database
from hub.platform.jobs import JobHandler, JobView, Outcome, enqueue
from hub.platform.queue import RetryLater
from hub.platform.targets import Targets
from hub.routing.engine import RoutingEngine

CUSTOMER_EVENTS = ("message.created", "button.pressed")
RASA_EVENTS = CUSTOMER_EVENTS


@dataclass(frozen=True, slots=True)
class Delivered:
    reply: wire.BotReply | None
    error: str | None = None
    timed_out: bool = False
    retry: bool = False  # unreachable, 5xx or 429: worth another attempt later
    log: BotDelivery | None = None  # the delivery log row, written with the job's effects


class BotService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        clock: Clock,
        engine: RoutingEngine,
        client: BotClient,
    ):
        self.settings = settings
        self.client = client
        self.db = db
        self.clock = clock
        self.automated = engine.automated
        self.faq = engine.bots.faq
        words = "|".join(re.escape(p.casefold()) for p in settings.bot_gateway.handoff_phrases)
        self._asks = re.compile(rf"\b(?:{words})\b") if words else None
        self.queued = False  # events queued since the last commit was heard of
        self.book = BotBook(db)  # the bots as they are now, one read per wave of events

    def handlers(self) -> dict[str, JobHandler]:
        return {"bot_event": JobHandler(self._apply, self._prepare, self.client.close)}

    def wants_person(self, text: str) -> bool:
        return self._asks is not None and self._asks.search(text.casefold()) is not None

    async def claim(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        team: str,
        now: datetime,
    ) -> bool:
        enabled = await session.scalars(select(Bot).where(Bot.enabled.is_(True)).order_by(Bot.id))
        chosen = schedule.pick(enabled, conversation.channel, team, self.settings.calendars, now)
        bot = chosen.bot or chosen.closed
        if bot is None:
            return False
        session.add(
            BotSession(
                conversation_id=conversation.id,
                bot_id=bot.id,
                channel=conversation.channel,
                state=handoff.BOT if chosen.bot else handoff.PENDING,
                reason=None if chosen.bot else schedule.OUTSIDE,
                handoff_at=None if chosen.bot else now,
                errors=0,
                opened_at=now,
            )
        )
        await session.flush()
        if chosen.bot is None:  # straight to people, by the normal routing
            await log_event(session, conversation, texts.outside_hours(bot.name), now)
            return False
        routing.bot, routing.bot_active = bot.name, True
        await self.event(session, bot, conversation, "conversation.opened", now)
        return True

    async def turn(
        self,
        session: AsyncSession,
        conversation: Conversation,
        routing: ConversationRouting,
        message: Message,
        now: datetime,
    ) -> bool:
        state = await handoff.locked_session(session, conversation.id)
        if state is None:
            return False
        bot = await session.get(Bot, state.bot_id)
        assert bot is not None
        if state.state != handoff.BOT:
            if not await handoff.back_on_return(session, self.settings, state, bot, now):
                return True
            await self.event(session, bot, conversation, "conversation.handback", now)
        if not bot.enabled:
            await self.hand_off(session, state, bot, "bot_disabled", now)
        elif self.wants_person(message.text):
            await self.hand_off(session, state, bot, "customer_asked", now)
        elif bot.kind == "faq":
            await self._faq(session, conversation, state, bot, message, now)
        else:
            offered = await self._offered(session, conversation.id, message.id)
            pressed = rendering.picked(message.text, message.raw, offered)
            kind = "button.pressed" if pressed is not None else "message.created"
            extra: dict[str, Any] = {"message": {"id": message.id, "text": message.text}}
            if pressed is not None:
                extra["button"] = {"payload": pressed}
            await self.event(session, bot, conversation, kind, now, **extra)
        return True

    async def _offered(self, session: AsyncSession, conversation_id: int, before: int) -> Any:
        raw = await session.scalar(
            select(Message.raw)
            .where(
                Message.conversation_id == conversation_id,
                Message.direction == Direction.OUTBOUND,
                Message.id < before,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
        return (raw or {}).get("buttons") or []

    async def _faq(
        self,
        session: AsyncSession,
        conversation: Conversation,
        state: BotSession,
        bot: Bot,
        message: Message,
        now: datetime,
    ) -> None:
        answer = self.faq.match(message.text, await self.faq.entries(session))
        if answer.answer is None:
            await self.hand_off(session, state, bot, "no_answer", now, answer.reason)
            return
        await self.say(session, conversation, state, bot, (wire.RichMessage(answer.answer),), now)

    async def event(
        self,
        session: AsyncSession,
        bot: Bot,
        conversation: Conversation,
        kind: str,
        now: datetime,
        **extra: Any,
    ) -> None:
        """Queue one event for the bot (in the caller's transaction)."""
        if bot.kind == "faq" or (bot.kind == "rasa" and kind not in RASA_EVENTS):
            return
        body = {
            "event": kind,
            "bot": bot.name,
            "conversation": {"id": conversation.id, "channel": conversation.channel},
            **extra,
        }
        payload = {"bot_id": bot.id, "event": kind, "body": body, "sender": conversation.token}
        await enqueue(session, "bot_event", now, conversation_id=conversation.id, payload=payload)
        self.queued = True

    async def hand_off(
        self,
        session: AsyncSession,
        state: BotSession,
        bot: Bot,
        reason: str,
        now: datetime,
        detail: str | None = None,
    ) -> bool:
        done = await handoff.hand_off(session, self.settings, state, bot, reason, now, detail)
        conversation = await session.get(Conversation, state.conversation_id)
        if done and conversation is not None:
            extra = {"handoff": {"reason": reason, "detail": detail}}
            await self.event(session, bot, conversation, "conversation.handoff", now, **extra)
        return done

    async def hand_back(
        self, session: AsyncSession, conversation: Conversation, bot_id: int | None, now: datetime
    ) -> tuple[BotSession, Bot]:
        """An agent hands the conversation (back) to a bot: its own, or ``bot_id``."""
        state = await handoff.locked_session(session, conversation.id)
        if state is None:
            raise texts.cannot_hand_back("no bot served this conversation")
        bot = await session.get(Bot, bot_id or state.bot_id)
        if bot is None:
            raise texts.cannot_hand_back(f"no bot {bot_id}")
        await handoff.hand_back(session, state, bot, now)
        await self.event(session, bot, conversation, "conversation.handback", now)
        return state, bot

    async def say(
        self,
        session: AsyncSession,
        conversation: Conversation,
        state: BotSession,
        bot: Bot,
        messages: tuple[wire.RichMessage, ...],
        now: datetime,
    ) -> list[Message]:
        """Queue what the bot said, authored as the bot (the caller checked the state)."""
        said: list[Message] = []
        via = reply_route(self.settings, conversation.channel)
        native = rendering.native(self.settings, via)
        for one in messages:
            raw = {
                "bot": bot.name,
                "bot_id": bot.id,
                **rendering.shown_raw(one),
                "native_buttons": native,
            }
            text = one.text + "\n" if native else rendering.as_text(one)
            words = Text(text, reply_subject(conversation, None))
            purpose = Purpose(f"Bot {bot.name} answer", raw=raw)
            sent = await self.automated.send(session, conversation, words, purpose, now)
            if sent.message is None:
                await self.hand_off(session, state, bot, "no_answer", now, "nobody to answer")
                break
            said.append(sent.message)
        return said

    async def _prepare(self, view: JobView) -> Delivered:
        bot = await self.book.target(int(view.payload["bot_id"]))
        if bot is None or not bot.url:
            return Delivered(None, "the bot is gone")
        url, secret, kind, timeout_ms = bot.url, bot.secret, bot.kind, bot.timeout_ms
        event = str(view.payload["event"])
        body = dict(view.payload["body"])
        if kind == "rasa":
            said = body.get("button", {}).get("payload") or body.get("message", {}).get("text")
            shaped = wire.rasa_body(
                str(view.payload["sender"]), str(said or ""), body["conversation"]["id"], ""
            )
            shaped["metadata"]["channel"] = body["conversation"]["channel"]
        else:
            shaped = {**body, "sent_at": self.clock.now().isoformat()}
        data = json.dumps(shaped).encode()
        stamp = int(self.clock.now().timestamp())
        answer = await self.client.post(url, data, signing.headers(secret, stamp, data), timeout_ms)
        delivered = self._judge(answer, kind)
        log = self._log(view, answer, delivered)
        # A customer's message that timed out is handed over, not retried (they are waiting).
        retry = delivered.retry and not (delivered.timed_out and event in CUSTOMER_EVENTS)
        if retry and view.attempts < self.settings.bot_gateway.max_attempts:
            async with self.db.writer() as session:  # no effects to apply: log it on its own
                session.add(log)
                await session.commit()
            raise RetryLater(delivered.error or "failed")
        return replace(delivered, log=log)

    @staticmethod
    def _judge(answer: Answer, kind: str) -> Delivered:
        if answer.status is None:
            return Delivered(None, answer.error, answer.timed_out, retry=True)
        if not 200 <= answer.status < 300:
            again = answer.status >= 500 or answer.status == 429
            return Delivered(None, f"the bot answered HTTP {answer.status}", retry=again)
        try:
            parsed = json.loads(answer.body) if answer.body.strip() else None
            if kind == "rasa":
                return Delivered(wire.rasa_reply(parsed if parsed is not None else []))
            return Delivered(wire.webhook_reply(parsed))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return Delivered(None, "the bot answered invalid JSON")
        except wire.ReplyProblem as exc:
            return Delivered(None, f"invalid reply: {exc.field}: {exc}")

    def _log(self, view: JobView, answer: Answer, delivered: Delivered) -> BotDelivery:
        outcome = "timeout" if delivered.timed_out else "error" if delivered.error else "ok"
        return BotDelivery(
            bot_id=int(view.payload["bot_id"]),
            conversation_id=view.conversation_id,
            event=str(view.payload["event"]),
            attempt=view.attempts,
            outcome=outcome,
            http_status=answer.status,
            error=(delivered.error or "")[:500] or None,
            bot_ms=answer.bot_ms,
            created_at=self.clock.now(),
        )

    async def _apply(self, session: AsyncSession, job: Job, result: Any, now: datetime) -> Outcome:
        assert isinstance(result, Delivered)
        if result.log is not None:
            session.add(result.log)
        if str(job.payload["event"]) not in CUSTOMER_EVENTS or job.conversation_id is None:
            return Outcome("done", result.error or "delivered")
        held = await handoff.locked_with_bot(session, job.conversation_id)
        if held is None or held[0].bot_id != int(job.payload["bot_id"]):
            return Outcome("skipped", "the bot no longer serves the conversation")
        state, bot, conversation = held
        if state.state != handoff.BOT:
            return Outcome("skipped", f"handed over ({state.state}): the answer was dropped")
        if result.timed_out:
            await self.hand_off(session, state, bot, "bot_timeout", now, result.error)
            return Outcome("done", "timed out: handed over")
        if result.error is not None or result.reply is None:
            state.errors += 1
            if state.errors >= bot.max_errors:
                await self.hand_off(session, state, bot, "bot_errors", now, result.error)
            return Outcome("done", result.error or "no answer")
        state.errors = 0
        await self.say(session, conversation, state, bot, result.reply.messages, now)
        if result.reply.handoff:
            await self.hand_off(session, state, bot, "bot_asked", now, result.reply.reason)
        elif progress.stuck(state, bot, result.reply):
            await self.hand_off(session, state, bot, progress.REASON, now)
        return Outcome("done", f"relayed {len(result.reply.messages)}")


class RegisteredBots:
    """What the assembly plugs in: ``build_routing`` calls it with the engine (the engine then
    offers conversations to the registered bots, and the job runner delivers their events);
    ``committed`` after each ingest commit wakes the job runner when bot events were queued."""

    def __init__(self, settings: Settings, db: Database, clock: Clock) -> None:
        self.settings, self.db, self.clock = settings, db, clock
        self.service: BotService | None = None
        self.wake: Callable[[], None] | None = None

    def __call__(self, engine: RoutingEngine) -> dict[str, JobHandler]:
        self.service = BotService(
            self.settings,
            self.db,
            self.clock,
            engine,
            BotClient(Targets.of(self.settings.outgoing)),
        )
        engine.plugin = self.service
        return self.service.handlers()

    def committed(self) -> None:
        if self.service is not None and self.service.queued and self.wake is not None:
            self.service.queued = False
            self.wake()


@dataclass(frozen=True, slots=True)
class ShownState:
    """A conversation's bot state as the conversation page shows it."""

    bot: str
    state: str
    label: str
    reason: str | None


STATE_LABELS = {
    handoff.BOT: "the bot is answering",
    handoff.PENDING: "handed over, waiting for a person",
    handoff.HUMAN: "a person has it",
}


async def shown_state(session: AsyncSession, conversation_id: int) -> ShownState | None:
    state = await session.get(BotSession, conversation_id)
    if state is None:
        return None
    bot = await session.get(Bot, state.bot_id)
    reason = texts.reason_text(state.reason) if state.reason else None
    name = bot.name if bot else "?"
    return ShownState(name, state.state, STATE_LABELS.get(state.state, state.state), reason)
