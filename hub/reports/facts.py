"""What one fact adds to the rollups: the one rule both the live recorder and a rebuild (and a
report over several filters at once, drawn from the facts) follow."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from hub.reports.rollup import Sink, Slice

DURATIONS = ("first_response", "reply", "resolution")


class FactLike(Protocol):
    """A ``report_facts`` row: the ORM object or a plain selected row."""

    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def day(self) -> date | None: ...
    @property
    def metric(self) -> str: ...
    @property
    def outcome(self) -> str: ...
    @property
    def score(self) -> int | None: ...
    @property
    def calendar_seconds(self) -> float | None: ...
    @property
    def business_seconds(self) -> float | None: ...
    @property
    def channel(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def agent_id(self) -> int | None: ...
    @property
    def tier(self) -> str: ...
    @property
    def tags(self) -> list[str]: ...


def slice_of_fact(fact: FactLike) -> Slice:
    return Slice(fact.channel, fact.team_id, fact.agent_id, fact.tier, tuple(fact.tags or ()))


def counter_of(fact: FactLike) -> str | None:
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


async def contribute(fact: FactLike, sink: Sink, sign: int = 1) -> None:
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
