"""Shapes of the admin console's configuration API: settings stored in the database (with where
each value comes from), routing rules one at a time with a dry run, and channels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic.json_schema import SkipJsonSchema

from hub.admin.settings_store import EDITABLE
from hub.web.api.models.common import (
    Answer,
    Id,
    Names,
    Params,
    Reading,
    Says,
    Timestamp,
)

STRING = Says("is required and must be a string")
KEYS = tuple(EDITABLE)


class SettingKey(Params):
    key: Annotated[
        str, Names("setting"), Field(description=f"one of {', '.join(KEYS)}", max_length=64)
    ]


class SettingValue(Reading):
    value: Annotated[
        Any,
        Field(description="the new value, shaped as in the config file (JSON)"),
    ]


class SettingEntry(Answer):
    key: str
    label: str
    value: Any = Field(description="the value in force, as JSON")
    source: Literal["default", "file", "environment", "database"]
    variable: str = Field(description="the environment variable that would set it")
    version: int = Field(ge=0, description="0: never changed in the console")
    updated_by: Id | None
    updated_at: Timestamp | None


class SettingList(Answer):
    items: list[SettingEntry]


class RuleName(Params):
    name: Annotated[str, Names("rule"), Field(min_length=1, max_length=200)]


class RuleBody(Reading):
    rule: Annotated[
        dict[str, Any],
        Says("must be a rule object as in [[routing.rules]]"),
        Field(description="a rule as in [[routing.rules]] (name, conditions, actions, enabled)"),
    ]


class RuleMove(Reading):
    position: Annotated[
        int,
        Field(ge=1, le=10_000, description="1: first"),
        Says("must be a whole number from 1 to 10000"),
    ]


class AdminDryRun(Reading):
    """A pasted message (channel, from, subject, text) or the id of a past customer message."""

    channel: Annotated[str | SkipJsonSchema[None], STRING] = None
    sender: Annotated[
        str, Says("must be a string"), Field(alias="from", max_length=320, default="")
    ]
    subject: Annotated[str, Says("must be a string"), Field(max_length=500)] = ""
    text: Annotated[str, Says("must be a string"), Field(max_length=20_000)] = ""
    message_id: Annotated[
        Annotated[int, Field(ge=1, le=2**31 - 1)] | SkipJsonSchema[None],
        Says("must be a message id"),
    ] = None

    @field_validator("channel", "message_id")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("null")
        return value


class DryRunStep(Answer):
    name: str
    matched: bool
    failed: str = Field("", description="the first condition that did not hold")


class DryRunAnswer(Answer):
    rule: str | None = Field(description="the rule that would fire (null: none, the defaults)")
    position: int | None = Field(ge=1, description="its place in the list")
    team: str
    priority: str
    tags: list[str]
    bot: str | None
    spam: bool
    inside_business_hours: bool
    trace: list[DryRunStep]


class ChannelName(Params):
    name: Annotated[str, Names("channel"), Field(max_length=64)]


class SecretPath(Params):
    name: Annotated[str, Names("channel"), Field(max_length=64)]
    field: Annotated[str, Names("secret"), Field(max_length=64)]


class SecretState(Answer):
    field: str
    set: bool = Field(description="whether a value is configured (the value is never shown)")


class ChannelInfo(Answer):
    name: str
    kind: str
    title: str
    last_message_in: Timestamp | None
    last_delivery: Timestamp | None
    last_error: str | None
    last_error_at: Timestamp | None
    endpoint: str = Field(
        description="the webhook URL to paste into the provider, or where "
        "customers reach the channel"
    )
    secrets: list[SecretState]


class ChannelList(Answer):
    items: list[ChannelInfo]


class NewSecret(Reading):
    value: Annotated[
        str,
        Says("is required: the new secret as a non-empty string"),
        Field(min_length=1, max_length=4096),
    ]


class TestSend(Reading):
    to: Annotated[
        str,
        Says("is required: the address or chat id to send the test to"),
        Field(min_length=1, max_length=320),
    ]


class TestResult(Answer):
    ok: bool
    error: str | None
