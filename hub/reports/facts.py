"""What one fact adds to the rollups: the one rule both the live recorder and a rebuild (and a
report over several filters at once, drawn from the facts) follow."""

from __future__ import annotations

from hub.db.report_models import ReportFact
from hub.reports.rollup import Sink, Slice

DURATIONS = ("first_response", "reply", "resolution")


def slice_of_fact(fact: ReportFact) -> Slice:
    return Slice(fact.channel, fact.team_id, fact.agent_id, fact.tier, tuple(fact.tags or ()))


def counter_of(fact: ReportFact) -> str | None:
    """The counter a done fact adds one to (None: a duration, or nothing)."""
    if fact.kind == "sla":
        return f"sla_{fact.metric}_{fact.outcome}"
    if fact.kind == "csat":
        return f"csat_{fact.score}"
    if fact.kind == "response":
        return "replies"
    if fact.kind == "survey":
        return "surveys"
    return None


async def contribute(fact: ReportFact, sink: Sink, sign: int = 1) -> None:
    if fact.state != "done" or fact.day is None:
        return
    where = slice_of_fact(fact)
    if fact.kind in DURATIONS:
        await sink.durations(
            fact.day, fact.kind, where, fact.calendar_seconds or 0.0, fact.business_seconds or 0.0
        )
        return
    counter = counter_of(fact)
    if counter is not None:
        await sink.counts(fact.day, counter, where, sign)
