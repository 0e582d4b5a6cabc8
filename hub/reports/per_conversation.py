"""Per-conversation rows for export: for each conversation with a fact in the period, its
first first-response time, replies answered, its last resolution time (calendar and business
seconds), SLA outcomes and CSAT score. Read from the facts, streamed."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.report_models import ReportFact
from hub.reports.merge import Filters

COLUMNS = (
    "conversation_id",
    "channel",
    "team_id",
    "agent_id",
    "tier",
    "first_response_seconds",
    "first_response_business_seconds",
    "replies_answered",
    "resolution_seconds",
    "resolution_business_seconds",
    "sla_first_response",
    "sla_resolution",
    "csat",
)


def _blank(fact: ReportFact) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(COLUMNS, "")
    row.update(
        conversation_id=fact.conversation_id,
        channel=fact.channel,
        team_id=fact.team_id or "",
        agent_id=fact.agent_id or "",
        tier=fact.tier,
        replies_answered=0,
    )
    return row


def _seconds(value: float | None) -> int | str:
    return "" if value is None else round(value)


async def per_conversation_csv(session: AsyncSession, filters: Filters) -> str:
    query = (
        select(ReportFact)
        .where(
            ReportFact.state == "done",
            ReportFact.day >= filters.start,
            ReportFact.day <= filters.end,
            ReportFact.kind.in_(("first_response", "reply", "resolution", "sla", "csat")),
        )
        .order_by(ReportFact.conversation_id, ReportFact.ended_at, ReportFact.id)
    )
    if filters.channel is not None:
        query = query.where(ReportFact.channel == filters.channel)
    if filters.team_id is not None:
        query = query.where(ReportFact.team_id == filters.team_id)
    if filters.tier is not None:
        query = query.where(ReportFact.tier == filters.tier)
    rows: dict[int, dict[str, Any]] = {}
    stream = await session.stream_scalars(query.execution_options(yield_per=5000))
    async for fact in stream:
        if filters.tag is not None and filters.tag not in (fact.tags or ()):
            continue
        row = rows.get(fact.conversation_id)
        if row is None:
            row = rows[fact.conversation_id] = _blank(fact)
        if fact.kind == "first_response" and row["first_response_seconds"] == "":
            row["first_response_seconds"] = _seconds(fact.calendar_seconds)
            row["first_response_business_seconds"] = _seconds(fact.business_seconds)
        elif fact.kind == "reply":
            row["replies_answered"] += 1
        elif fact.kind == "resolution":
            row["resolution_seconds"] = _seconds(fact.calendar_seconds)
            row["resolution_business_seconds"] = _seconds(fact.business_seconds)
        elif fact.kind == "sla":
            row[f"sla_{fact.metric}"] = fact.outcome
        elif fact.kind == "csat":
            row["csat"] = fact.score or ""
    if filters.agent_id is not None:
        rows = {k: v for k, v in rows.items() if v["agent_id"] == filters.agent_id}
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows(rows.values())
    return out.getvalue()
