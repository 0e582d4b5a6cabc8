"""Shapes of the bot API: registering bots, a bot's messages, handoff and handback, the
delivery log and the figures."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from hub.web.api.models.common import Answer, Names, Params, PathId, Reading, Says

NAME = Says("must be 1-64 letters, digits, '-' or '_'")
Channels = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)]
TimeoutMs = Annotated[int, Field(ge=100, le=30000)]
MaxErrors = Annotated[int, Field(ge=1, le=20)]
MaxTurns = Annotated[int, Field(ge=0, le=50, description="turns without progress; 0: no limit")]
Hours = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        description='a calendar named under settings "calendars", or "always"',
    ),
]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=500)]


class BotId(Params):
    bot_id: Annotated[PathId, Names("bot"), Field(description="bot id")]


class ConversationId(Params):
    conversation_id: Annotated[PathId, Names("conversation"), Field(description="conversation")]


class NewBot(Reading):
    name: Annotated[str, NAME, Field(pattern="^[A-Za-z0-9_-]{1,64}$")]
    kind: Literal["faq", "webhook", "rasa"]
    url: Url | SkipJsonSchema[None] = None
    channels: Channels = []
    teams: Channels = []
    enabled: bool = True
    timeout_ms: TimeoutMs = 5000
    max_errors: MaxErrors = 3
    hours: Hours = "always"
    max_turns_without_progress: MaxTurns = 0
    handback_on_resolve: bool = False


class BotChange(Reading):
    url: Url | SkipJsonSchema[None] = None
    channels: Channels | SkipJsonSchema[None] = None
    teams: Channels | SkipJsonSchema[None] = None
    enabled: bool | SkipJsonSchema[None] = None
    timeout_ms: TimeoutMs | SkipJsonSchema[None] = None
    max_errors: MaxErrors | SkipJsonSchema[None] = None
    hours: Hours | SkipJsonSchema[None] = None
    max_turns_without_progress: MaxTurns | SkipJsonSchema[None] = None
    handback_on_resolve: bool | SkipJsonSchema[None] = None


class BotShown(Answer):
    id: int
    name: str
    kind: str
    url: str | None
    channels: list[str]
    teams: list[str]
    enabled: bool
    timeout_ms: int
    max_errors: int
    hours: str
    max_turns_without_progress: int
    handback_on_resolve: bool


class BotCreated(BotShown):
    token: str = Field(description="the bot's API token, shown only now")
    secret: str = Field(description="the signing secret of events to the bot, shown only now")


class BotCredentials(Answer):
    token: str = Field(description="the bot's new API token, shown only now")
    secret: str = Field(description="the new signing secret, shown only now")


class BotList(Answer):
    bots: list[BotShown]


class ButtonIn(Reading):
    title: Annotated[str, Field(min_length=1, max_length=64)]
    payload: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = None
    url: Url | SkipJsonSchema[None] = None


ImageUrl = Annotated[str, Field(pattern=r"^https?://\S+$", max_length=2000)]


class CardIn(Reading):
    title: Annotated[str, Field(max_length=256)] | SkipJsonSchema[None] = None
    text: Annotated[str, Field(max_length=4096)] | SkipJsonSchema[None] = None
    image: ImageUrl | SkipJsonSchema[None] = None
    buttons: Annotated[list[ButtonIn], Field(max_length=10)] = []


class BotMessage(Reading):
    text: Annotated[str, Field(max_length=4096)] = ""
    buttons: Annotated[list[ButtonIn], Field(max_length=10)] = []
    image: ImageUrl | SkipJsonSchema[None] = Field(
        None, description="an image under the text (an http(s) URL)"
    )
    card: CardIn | SkipJsonSchema[None] = Field(
        None, description="a card (title, text, image, buttons) instead of text and buttons"
    )
    handoff: bool = False
    reason: Annotated[str, Field(max_length=300)] | SkipJsonSchema[None] = None


class BotSaid(Answer):
    message_ids: list[int]
    state: str


class Handback(Reading):
    bot_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | SkipJsonSchema[None] = None


class BotState(Answer):
    conversation_id: int
    bot: str
    state: str
    reason: str | None
    handoff_at: datetime | None


class Delivery(Answer):
    id: int
    conversation_id: int | None
    event: str
    attempt: int
    outcome: str
    http_status: int | None
    error: str | None
    bot_ms: int | None
    created_at: datetime


class Deliveries(Answer):
    deliveries: list[Delivery]


class FigureQuery(Params):
    days: Annotated[int, Field(ge=1, le=366)] = 30


class BotFigure(Answer):
    bot: str
    channel: str
    conversations: int
    contained: int
    containment_rate: float | None
    handoffs: dict[str, int]
    response_ms_p50: int | None
    response_ms_p95: int | None


class BotFigures(Answer):
    since: datetime
    figures: list[BotFigure]
