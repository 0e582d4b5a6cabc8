"""Shapes of the live operations API: the figures per team, per channel and in total, and a
line per agent (definitions in docs/live.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hub.db.models import Presence
from hub.web.api.models.common import Answer, Id, Params, Says, Timestamp
from hub.web.api.models.conversations import Conversation

Figure = Literal[
    "open", "unassigned", "waiting_us", "waiting_customer", "sla_at_risk", "sla_breached"
]


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
    conversations: str = Field(
        description="API path of the open conversations behind this line (change figure= for "
        "another figure's)"
    )


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


class LiveConversationQuery(Params):
    figure: Annotated[
        Figure,
        Says(
            "must be one of open, unassigned, waiting_us, waiting_customer, sla_at_risk, "
            "sla_breached"
        ),
        Field(description="the figure whose conversations to list"),
    ]
    team: Annotated[
        Annotated[str, Field(pattern="^(none|[1-9][0-9]{0,8})$")] | None,
        Says("must be a team id or none"),
        Field(description='a team id, or "none" for conversations without a team'),
    ] = None
    channel: Annotated[
        Annotated[str, Field(min_length=1, max_length=64)] | None,
        Says("must be a channel name"),
        Field(description="a channel name"),
    ] = None


class LiveConversations(Answer):
    figure: Figure
    items: list[Conversation] = Field(description="longest waiting first (at most 200)")
