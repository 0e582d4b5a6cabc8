"""Shapes of the live operations API: the figures per team, per channel and in total, and a
line per agent (definitions in docs/live.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.db.models import Presence
from hub.web.api.models.common import Answer, Id, Timestamp


class LiveLine(Answer):
    key: str = Field(description='team id ("none": no team), channel name, or "all"')
    label: str
    open: int = Field(ge=0, description="not resolved: open, pending or snoozed")
    unassigned: int = Field(ge=0)
    waiting_us: int = Field(ge=0, description="the customer wrote last; no agent reply since")
    waiting_customer: int = Field(ge=0, description="pending, or an agent replied last")
    sla_at_risk: int = Field(ge=0, description="next SLA deadline within the risk margin")
    sla_breached: int = Field(ge=0, description="next SLA deadline passed")
    longest_wait_seconds: int | None = Field(
        ge=0, description="how long the longest-waiting customer has waited for us (null: none)"
    )
    waiting_since: Timestamp | None
    conversations: str = Field(description="UI link to the conversations behind the numbers")


class LiveAgent(Answer):
    id: Id
    name: str
    role: str
    presence: Presence
    open_count: int = Field(ge=0)
    capacity: int = Field(ge=0)
    last_reply_at: Timestamp | None
    assigned_today: int = Field(ge=0)
    online_today_seconds: int = Field(ge=0)
    team_ids: list[int]


class LiveView(Answer):
    generated_at: Timestamp
    scope: Literal["all", "teams"]
    team_ids: list[int] | None = Field(description="the teams in scope (null: every team)")
    sla_risk_minutes: int = Field(ge=1)
    teams: list[LiveLine]
    channels: list[LiveLine]
    total: LiveLine
    agents: list[LiveAgent]
