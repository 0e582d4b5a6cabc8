"""The live operations API: the figures of the live view for supervisors and admins."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from hub.reports.live import Figures, live_conversations, live_figures, live_scope
from hub.reports.live_agents import agent_lines
from hub.reports.live_texts import LIVE_FORBIDDEN
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.conversations import Conversation
from hub.web.api.models.live import (
    LiveAgent,
    LiveConversationQuery,
    LiveConversations,
    LiveLine,
    LiveView,
)

TAG = "Live operations"


def _line(line: Figures, now: datetime, key: str) -> LiveLine:
    wait = line.longest_wait(now)
    query = urlencode({key: line.key}) if key else ""
    return LiveLine(
        key=line.key,
        label=line.label,
        open=line.open,
        unassigned=line.unassigned,
        waiting_us=line.waiting_us,
        waiting_customer=line.waiting_customer,
        sla_at_risk=line.sla_at_risk,
        sla_breached=line.sla_breached,
        longest_wait_seconds=None if wait is None else int(wait.total_seconds()),
        waiting_since=line.waiting_since,
        conversations="/api/v1/live/conversations?figure=open" + (f"&{query}" if query else ""),
    )


@endpoint(
    "GET",
    "/api/v1/live",
    Doc(
        TAG,
        "The live operations figures (supervisors and admins)",
        "getLive",
        description="Per team and channel: open, unassigned, waiting for us and for the "
        "customer, SLA at risk and breached, the longest current wait; per agent: presence, "
        "load, last reply, assignments and time online today. Supervisors see every team or "
        'only theirs (live.supervisor_scope = "teams").',
        requires=Requires(lambda p: p.manages_assignments, LIVE_FORBIDDEN),
        ok={200: "The figures as of now"},
        errors=(401, 403),
    ),
)
async def get_live(call: Call) -> LiveView:
    hub = call.hub
    settings = hub.settings.live
    scope = live_scope(call.principal, settings)
    now = hub.clock.now()
    async with hub.db.reader() as session:
        figures = await live_figures(
            session, scope, settings, now, tuple(sorted(hub.settings.channels))
        )
        agents = await agent_lines(session, scope, settings, now)
    return LiveView(
        generated_at=now,
        scope="all" if scope.team_ids is None else "teams",
        team_ids=None if scope.team_ids is None else sorted(scope.team_ids),
        sla_risk_minutes=settings.sla_risk_minutes,
        teams=[_line(line, now, "team") for line in figures.teams],
        channels=[_line(line, now, "channel") for line in figures.channels],
        total=_line(figures.total, now, ""),
        agents=[
            LiveAgent(
                id=line.agent_id,
                name=line.name,
                role=line.role,
                presence=line.presence,
                open_count=line.open_count,
                capacity=line.capacity,
                last_reply_at=line.last_reply_at,
                assigned_today=line.assigned_today,
                online_today_seconds=int(line.online_today.total_seconds()),
                team_ids=list(line.team_ids),
            )
            for line in agents
        ],
    )


@endpoint(
    "GET",
    "/api/v1/live/conversations",
    Doc(
        TAG,
        "The conversations behind one live figure (supervisors and admins)",
        "getLiveConversations",
        description="For a team, a channel, or everything in the caller's scope; a team "
        "outside a supervisor's scope is refused with 403.",
        requires=Requires(lambda p: p.manages_assignments, LIVE_FORBIDDEN),
        ok={200: "The conversations, longest waiting first"},
        errors=(400, 401, 403),
    ),
)
async def get_live_conversations(call: Call, query: LiveConversationQuery) -> LiveConversations:
    hub = call.hub
    scope = live_scope(call.principal, hub.settings.live)
    async with hub.db.reader() as session:
        rows = await live_conversations(
            session,
            scope,
            hub.settings.live,
            hub.clock.now(),
            figure=query.figure,
            team=query.team or "",
            channel=query.channel or "",
        )
    return LiveConversations(
        figure=query.figure, items=[Conversation.model_validate(row) for row in rows]
    )


ENDPOINTS: tuple[Endpoint, ...] = (get_live, get_live_conversations)
