"""The bot API: admins register bots and read their delivery logs; a bot speaks in the
conversations it holds with its own token (refused with 409 once handed over); agents hand a
conversation back to a bot; supervisors read the bot figures."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.bots import handoff, registry, texts, wire
from hub.bots.figures import bot_figures
from hub.bots.service import BotService
from hub.config.settings import Settings
from hub.core.authz import visible_conversation
from hub.core.errors import forbidden, not_found, unauthorized
from hub.db.bots_models import Bot, BotDelivery
from hub.db.models import Conversation, Role
from hub.platform.targets import Targets
from hub.web.api.edge import Call, Doc, Endpoint, Reply, Requires, endpoint
from hub.web.api.models import bots as shapes
from hub.web.api.models.bots import (
    BotChange,
    BotCreated,
    BotCredentials,
    BotId,
    BotList,
    BotMessage,
    BotSaid,
    BotShown,
    BotState,
    ConversationId,
    Deliveries,
    FigureQuery,
    Handback,
)
from hub.web.auth import bearer_token

TAG = "Bots"
SHOWN = {"text", "buttons", "image", "card"}
ADMIN = Requires(lambda p: p.role == Role.ADMIN, "manage bots")
SUPERVISE = Requires(lambda p: p.role in (Role.ADMIN, Role.SUPERVISOR), "read bot figures")


def service_of(call: Call) -> BotService:
    assert call.hub.routing is not None
    plugin = call.hub.routing.engine.plugin
    assert isinstance(plugin, BotService)
    return plugin


async def _refuse_target(found: dict[str, str], url: str | None, settings: Settings) -> None:
    """A URL to a non-public address is refused beside the URL (hub/platform/targets.py)."""
    if "url" not in found:
        problem = await Targets.of(settings.outgoing).refusal(url)
        if problem is not None:
            found["url"] = problem


@endpoint(
    "POST",
    "/api/v1/bots",
    Doc(TAG, "Register a bot (admins)", "createBot", requires=ADMIN,
        ok={201: "Registered: the token and secret are shown only now"},
        errors=(400, 401, 403, 413, 422), notes={409: "A bot of that name exists (name_taken)"}),
)  # fmt: skip
async def create_bot(call: Call, body: shapes.NewBot) -> Reply[BotCreated]:
    settings = call.hub.settings
    found = registry.problems(body.kind, body.model_dump(), settings.channels, settings.calendars)
    await _refuse_target(found, body.url, settings)
    if found:
        raise texts.bad_fields(found)
    async with call.hub.db.writer() as session:
        made = await registry.create(
            session, call.principal.agent_id, body.model_dump(), call.hub.clock.now()
        )
        await session.commit()
        shown = registry.shown(made.bot)
    return Reply(BotCreated(**shown, token=made.token, secret=made.secret), 201)


@endpoint(
    "GET",
    "/api/v1/bots",
    Doc(TAG, "The registered bots (admins)", "listBots", requires=ADMIN, errors=(401, 403)),
)
async def list_bots(call: Call) -> BotList:
    async with call.hub.db.reader() as session:
        bots = (await session.scalars(select(Bot).order_by(Bot.id))).all()
        return BotList(bots=[BotShown(**registry.shown(b)) for b in bots])


@endpoint(
    "PATCH",
    "/api/v1/bots/{bot_id}",
    Doc(TAG, "Change a bot: channels, teams, enable or disable (admins)", "changeBot",
        requires=ADMIN, errors=(400, 401, 403, 404, 413, 422)),
)  # fmt: skip
async def change_bot(call: Call, path: BotId, body: BotChange) -> BotShown:
    changes = body.model_dump(exclude_none=True)
    settings = call.hub.settings
    found = registry.problems("", changes, settings.channels, settings.calendars)
    await _refuse_target(found, body.url, settings)
    if found:
        raise texts.bad_fields(found)
    async with call.hub.db.writer() as session:
        bot = await session.get(Bot, path.bot_id, with_for_update=True)
        if bot is None:
            raise not_found("bot", path.bot_id)
        await registry.update(session, call.principal.agent_id, bot, changes, call.hub.clock.now())
        await session.commit()
        return BotShown(**registry.shown(bot))


@endpoint(
    "POST",
    "/api/v1/bots/{bot_id}/credentials",
    Doc(TAG, "Rotate a bot's token and signing secret (admins)", "rotateBotCredentials",
        requires=ADMIN, ok={200: "The new token and secret, shown only now"},
        errors=(401, 403, 404)),
)  # fmt: skip
async def rotate_credentials(call: Call, path: BotId) -> BotCredentials:
    async with call.hub.db.writer() as session:
        bot = await session.get(Bot, path.bot_id, with_for_update=True)
        if bot is None:
            raise not_found("bot", path.bot_id)
        made = await registry.rotate(session, call.principal.agent_id, bot, call.hub.clock.now())
        await session.commit()
    return BotCredentials(token=made.token, secret=made.secret)


@endpoint(
    "GET",
    "/api/v1/bots/{bot_id}/deliveries",
    Doc(TAG, "A bot's delivery log, newest first (admins)", "botDeliveries", requires=ADMIN,
        errors=(401, 403, 404)),
)  # fmt: skip
async def deliveries(call: Call, path: BotId) -> Deliveries:
    async with call.hub.db.reader() as session:
        if await session.get(Bot, path.bot_id) is None:
            raise not_found("bot", path.bot_id)
        rows = await session.scalars(
            select(BotDelivery)
            .where(BotDelivery.bot_id == path.bot_id)
            .order_by(BotDelivery.id.desc())
            .limit(200)
        )
        return Deliveries.model_validate({"deliveries": list(rows)})


@endpoint(
    "POST",
    "/api/v1/bots/conversations/{conversation_id}/messages",
    Doc(TAG, "A bot speaks in a conversation it holds (the bot's token)", "botSays",
        auth="public",
        description="Refused with 409 (code bot_not_in_charge, fields.state) once the "
        "conversation was handed over: the message is delivered to no one. "
        "`handoff: true` hands the conversation to a person after the message.",
        ok={201: "Queued, authored as the bot"}, errors=(400, 401, 404, 413, 422),
        notes={409: "Handed over (bot_not_in_charge, fields.state): delivered to no one"}),
)  # fmt: skip
async def bot_says(call: Call, path: ConversationId, body: BotMessage) -> Reply[BotSaid]:
    token = bearer_token(call.request)
    try:
        said = wire.message(body.model_dump(include=SHOWN, exclude_defaults=True), "body")
    except wire.ReplyProblem as exc:
        raise texts.bad_reply(exc.field.removeprefix("body."), str(exc)) from None
    if said is None and not body.handoff:
        raise texts.bad_reply("text", "a message needs text or buttons")
    service, now = service_of(call), call.hub.clock.now()
    async with call.hub.db.writer() as session:
        bot = await registry.by_token(session, token)
        if bot is None:
            raise unauthorized()
        state = await handoff.locked_session(session, path.conversation_id)
        conversation = await session.get(Conversation, path.conversation_id)
        if state is None or conversation is None or state.bot_id != bot.id:
            raise texts.no_bot()
        if state.state != handoff.BOT:
            raise texts.not_bots_turn(state.state)
        messages = await service.say(
            session, conversation, state, bot, (said,) if said else (), now
        )
        if body.handoff:
            await service.hand_off(session, state, bot, "bot_asked", now, body.reason)
        result = BotSaid(message_ids=[m.id for m in messages], state=state.state)
        await session.commit()
    return Reply(result, 201)


@endpoint(
    "POST",
    "/api/v1/conversations/{conversation_id}/handback",
    Doc(TAG, "Hand a conversation back to a bot (agents who see it)", "handBack",
        ok={200: "The bot holds the conversation again"},
        errors=(400, 401, 403, 404, 413, 422),
        notes={409: "No bot served it, the bot holds it already, or is disabled"}),
)  # fmt: skip
async def hand_back(call: Call, path: ConversationId, body: Handback) -> BotState:
    if call.principal.role == Role.MARKETER:
        raise forbidden("hand conversations to bots")
    service, now = service_of(call), call.hub.clock.now()
    async with call.hub.db.writer() as session:
        conversation = await visible_conversation(session, call.principal, path.conversation_id)
        state, bot = await service.hand_back(session, conversation, body.bot_id, now)
        shown = BotState(
            conversation_id=conversation.id,
            bot=bot.name,
            state=state.state,
            reason=state.reason,
            handoff_at=state.handoff_at,
        )
        await session.commit()
    return shown


@endpoint(
    "GET",
    "/api/v1/bots/figures",
    Doc(TAG, "Containment, handoff reasons and bot response time per bot and channel",
        "botFigures", requires=SUPERVISE, errors=(400, 401, 403)),
)  # fmt: skip
async def figures(call: Call, query: FigureQuery) -> shapes.BotFigures:
    since = call.hub.clock.now() - timedelta(days=query.days)
    async with call.hub.db.reader() as session:
        found = await bot_figures(session, since)
    return shapes.BotFigures(
        since=since,
        figures=[
            shapes.BotFigure(
                bot=f.bot,
                channel=f.channel,
                conversations=f.conversations,
                contained=f.contained,
                containment_rate=f.containment_rate,
                handoffs=dict(f.handoffs),
                response_ms_p50=f.percentile(0.5),
                response_ms_p95=f.percentile(0.95),
            )
            for f in found
        ],
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    figures,
    create_bot,
    list_bots,
    change_bot,
    rotate_credentials,
    deliveries,
    bot_says,
    hand_back,
)
