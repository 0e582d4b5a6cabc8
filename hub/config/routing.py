"""Settings for the routing engine: the optional rule conditions and actions that extend
``[[routing.rules]]``, assignment, business-hours calendars, SLA policies, follow-ups, bots and
the job runner. ``hub.config.settings`` composes them into ``Settings`` and checks the names
they refer to."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Strategy = Literal["round_robin", "least_loaded", "skills", "sticky", "none"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleExtensions(_Model):
    """Optional conditions (all given ones must hold) and actions of a routing rule."""

    channel_kinds: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    intents: tuple[str, ...] = ()
    intent_threshold: float | None = Field(None, ge=0, le=100)
    tiers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = Field(default_factory=dict)
    languages: tuple[str, ...] = ()
    business_hours: Literal["inside", "outside"] | None = None
    customer: Literal["new", "returning"] | None = None
    has_attachment: bool | None = None
    # actions
    add_tags: tuple[str, ...] = ()
    open_ticket: bool = True
    category: str = Field("", max_length=64)
    assign: Strategy | None = None
    skills: tuple[str, ...] = ()
    template: str | None = None
    bot: str | None = None
    spam: bool = False
    enabled: bool = True  # a disabled rule stays in the list and never matches

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
        return value


class AssignmentSettings(_Model):
    default_strategy: Strategy = "round_robin"
    sticky_fallback: Strategy = "least_loaded"
    reassign_offline: bool = True
    reassign_after_minutes: int | None = Field(None, ge=1)


class CalendarSettings(_Model):
    timezone: str = "UTC"
    hours: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    holidays: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"{day!r} is not a weekday (use {', '.join(WEEKDAYS)})")
            for span in spans:
                match = _SPAN.match(span)
                if match is None or span[6:] <= span[:5]:
                    raise ValueError(f"{day}: {span!r} is not a span like 09:00-17:30")
        return value


class SlaPolicy(_Model):
    name: str
    priorities: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    calendar: str | None = None
    first_response_minutes: int | None = Field(None, ge=1)
    next_response_minutes: int | None = Field(None, ge=1)
    resolution_minutes: int | None = Field(None, ge=1)
    warn_before_minutes: int = Field(15, ge=0)
    notify_supervisor: bool = True
    raise_priority: bool = False
    reassign: bool = False


class FollowupRule(_Model):
    name: str
    trigger: Literal["agent_reply", "pending", "resolved"]
    action: Literal["send", "resolve", "survey"] = "send"
    delay_minutes: int = Field(0, ge=0)
    template: str | None = None
    channels: tuple[str, ...] = ()


class FollowupSettings(_Model):
    calendar: str | None = None
    outside_hours_template: str | None = None
    rules: tuple[FollowupRule, ...] = ()


class FaqSettings(_Model):
    threshold: float = Field(85.0, ge=0, le=100)
    handoff_phrases: tuple[str, ...] = (
        "talk to a human",
        "speak to a person",
        "real person",
        "human agent",
        "talk to an agent",
    )


class ConnectorSettings(_Model):
    url: str
    channels: tuple[str, ...] = ()
    timeout_seconds: float = Field(10.0, gt=0)


class BotSettings(_Model):
    faq: FaqSettings = FaqSettings()
    connectors: dict[str, ConnectorSettings] = Field(default_factory=dict)


class JobSettings(_Model):
    poll_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(50, ge=1)
    lease_seconds: float = Field(30.0, gt=0)  # renewed while a job runs
    concurrency: int = Field(16, ge=1, le=256)  # jobs of one pass worked on at once (bot calls)
    # Jobs that ran are deleted this long after they were due (failed ones and follow-ups,
    # whose rows are the record of the surveys and reminders sent, are kept).
    keep_finished_days: int = Field(30, ge=1, le=3650)
