"""Shapes of the report API: the filters every report reads, and the figures it answers
(durations in seconds, calendar and business hours)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from hub.web.api.models.common import Answer, Params

Text = Annotated[str | None, Field(max_length=100)]


class ReportQuery(Params):
    start: Text = Field(None, description="first day (YYYY-MM-DD, account time zone)")
    end: Text = Field(None, description="last day, inclusive (default: today)")
    channel: Text = Field(None, description="only this channel")
    team_id: Text = Field(None, description="only this team (id)")
    agent_id: Text = Field(None, description="only this agent (id)")
    tier: Text = Field(None, description="only customers of this tier")
    tag: Text = Field(None, description="only conversations with this tag")


class DrillQuery(ReportQuery):
    metric: Text = Field(None, description="the figure: first_response, reply, resolution, ...")
    bucket: Text = Field(None, description="a histogram bar (0 = shortest)")
    clock: Text = Field(None, description="the bar's clock: calendar (default) or business")


class Period(Answer):
    start: date
    end: date
    timezone: str


class Spread(Answer):
    median: float | None
    p90: float | None
    mean: float | None
    histogram: list[int]


class Timing(Answer):
    metric: str
    count: int
    calendar: Spread
    business: Spread


class ResponseTimes(Answer):
    period: Period
    buckets: list[str]
    items: list[Timing]


class ChannelSeries(Answer):
    channel: str
    messages_by_day: list[int]
    conversations_by_day: list[int]
    messages_by_hour: list[int]


class VolumeReport(Answer):
    period: Period
    days: list[date]
    channels: list[ChannelSeries]


class SlaRow(Answer):
    key: str
    name: str
    first_response_met: int
    first_response_breached: int
    first_response_percent: float | None
    resolution_met: int
    resolution_breached: int
    resolution_percent: float | None


class SlaReport(Answer):
    period: Period
    overall: SlaRow
    teams: list[SlaRow]
    agents: list[SlaRow]


class CsatReport(Answer):
    period: Period
    scores: dict[str, int]
    answers: int
    surveys: int
    average: float | None
    response_rate_percent: float | None


class AgentActivity(Answer):
    agent_id: int | None
    name: str
    replies: int
    resolutions: int
    first_response_mean: float | None
    time_online_seconds: float | None


class AgentReport(Answer):
    period: Period
    items: list[AgentActivity]


class FactRow(Answer):
    conversation_id: int
    kind: str
    metric: str
    started_at: str
    ended_at: str | None
    calendar_seconds: float | None
    business_seconds: float | None
    channel: str
    team_id: int | None
    agent_id: int | None
    tier: str
    outcome: str
    score: int | None


class DrillReport(Answer):
    period: Period
    metric: str
    truncated: bool = Field(description="more rows than listed (the CSV export has them)")
    conversation_ids: list[int]
    items: list[FactRow]
