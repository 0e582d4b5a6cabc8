"""Shapes of the routing API: rules (as in ``[[routing.rules]]`` of the config), a dry run and its
decision, agents' presence, capacity and skills, SLA events, notices, follow-up templates and the
FAQ bot's knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from hub.config.settings import Priority, RoutingRule
from hub.core.errors import invalid_field, rules_invalid
from hub.db.models import Presence
from hub.routing.rules_store import RulesInvalid, parse_rules, rules_json
from hub.web.api.models.common import (
    Answer,
    Id,
    Lax,
    Names,
    Params,
    PathId,
    Reading,
    Says,
    Timestamp,
    WholeNumber,
    refused,
    settings_in,
    whole_range,
)

STRING = Says("is required and must be a string")
FLAG = Says("must be true or false")


def _rules(raw: Any, info: ValidationInfo) -> Any:
    try:
        return parse_rules(settings_in(info.context), raw)
    except RulesInvalid as exc:
        raise refused(rules_invalid(exc.where, exc.problem)) from None


RuleList = Annotated[
    tuple[RoutingRule, ...],
    PlainSerializer(rules_json),
    Field(
        description="Routing rules as in [[routing.rules]] of the config; fields left at their "
        "default are omitted in answers."
    ),
]
Rules = Annotated[RuleList, BeforeValidator(_rules)]
"""Rules as a request carries them, checked against the configured channels and bots."""


class AgentId(Params):
    id: Annotated[PathId, Names("agent"), Field(description="agent id")]


class Ruleset(Answer):
    version: int = Field(ge=0, description="0: the config file's")
    source: Literal["config", "api"]
    rules: RuleList


class NewRules(Reading):
    rules: Rules

    @model_validator(mode="before")
    @classmethod
    def _given(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "rules" not in raw:
            raise refused(rules_invalid("rules", "must be a list of rule objects"))
        return raw


class CustomerFacts(BaseModel):
    """What the rules know about the customer."""

    tier: Annotated[str, BeforeValidator(str)] = "standard"
    tags: list[str] = Field(default_factory=list)
    attributes: Annotated[dict[str, Any], Says("must be an object"), Field(strict=True)] = Field(
        default_factory=dict
    )
    locale: Annotated[str, BeforeValidator(str)] = "en"

    @field_validator("tags", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise refused(invalid_field("tags", "must be a list of strings"))
        return value


class DryRun(Reading):
    channel: Annotated[str, STRING, Field(description="a configured channel name")]
    customer: Annotated[
        CustomerFacts, Says("must be an object with tier, tags, attributes, locale")
    ] = Field(default_factory=CustomerFacts)
    at: Annotated[
        str | SkipJsonSchema[None],
        STRING,
        Field(description="default: now", json_schema_extra={"format": "date-time"}),
    ] = None
    recipients: Annotated[list[str], Says("must be a list of strings")] = Field(
        default_factory=list
    )
    subject: Annotated[str, STRING] = ""
    text: Annotated[str, STRING]
    returning: Annotated[bool, FLAG] = False
    has_attachment: Annotated[bool, FLAG] = False
    rules: Annotated[
        Rules | SkipJsonSchema[None],
        Field(description="a draft to try instead of the rules in force"),
    ] = None

    @field_validator("channel")
    @classmethod
    def _configured(cls, value: str, info: ValidationInfo) -> str:
        if value not in settings_in(info.context).channels:
            raise refused(invalid_field("channel", f"no channel named {value!r} is configured"))
        return value

    @field_validator("rules")
    @classmethod
    def _a_list(cls, value: tuple[RoutingRule, ...] | None) -> tuple[RoutingRule, ...] | None:
        if value is None:
            raise refused(rules_invalid("rules", "must be a list of rule objects"))
        return value

    @field_validator("at")
    @classmethod
    def _moment(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("null")
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            raise refused(invalid_field("at", "must be an ISO 8601 date and time")) from None
        if at.tzinfo is None:
            raise refused(invalid_field("at", "must include a time zone offset"))
        return value


class RuleHit(Answer):
    index: int = Field(ge=0)
    name: str


class DecidedActions(Answer):
    team: str
    priority: Priority
    tags: list[str]
    open_ticket: bool
    category: str
    assign: str
    skills: list[str]
    template: str | None
    bot: str | None
    spam: bool


class RuleTrace(Answer):
    index: int = Field(ge=0)
    name: str
    matched: bool
    failed: str = Field("", description="the first condition that failed")
    intent_score: float = 0.0


class Decision(Answer):
    version: int = Field(ge=0)
    matched: RuleHit | None
    actions: DecidedActions
    inside_business_hours: bool
    trace: list[RuleTrace]


class AgentChange(Reading):
    """Leave out (or send null for) what stays as it is."""

    presence: Annotated[
        Lax[Presence] | SkipJsonSchema[None], Says("must be one of online, away, offline")
    ] = None
    capacity: Annotated[
        Annotated[int, Field(ge=0, le=1000)] | SkipJsonSchema[None], whole_range(0, 1000)
    ] = None
    skills: Annotated[
        list[Annotated[str, Field(min_length=1)]] | SkipJsonSchema[None],
        Says("must be a list of non-empty strings"),
    ] = None

    @model_validator(mode="after")
    def _changes_something(self) -> AgentChange:
        if self.presence is None and self.capacity is None and self.skills is None:
            raise refused(invalid_field("presence", "give presence, capacity or skills to change"))
        return self


class AgentState(Answer):
    id: Id
    presence: Presence
    capacity: int = Field(ge=0)
    skills: list[str]
    open_count: int = Field(ge=0)


class SlaQuery(Params):
    kind: Annotated[
        Literal["breach", "warning"], Says("must be breach or warning", as_field=True)
    ] = "breach"
    limit: Annotated[int, Field(ge=1, le=1000), WholeNumber, whole_range(1, 1000)] = 100


class SlaEvent(Answer):
    conversation_id: Id
    metric: str
    kind: Literal["breach", "warning"]
    policy: str
    priority: str
    team_id: Id | None
    assignee_id: Id | None
    due_at: Timestamp
    occurred_at: Timestamp


class SlaEvents(Answer):
    items: list[SlaEvent]
    by_metric: dict[str, Annotated[int, Field(ge=1)]] = Field(
        description="metric -> number of events listed"
    )


class Notice(Answer):
    id: Id
    kind: str
    text: str
    conversation_id: Id | None
    created_at: Timestamp


class Notices(Answer):
    items: list[Notice]
