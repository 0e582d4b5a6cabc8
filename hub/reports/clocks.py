"""The pieces a reporting fact is made of: a business calendar that remembers its days, a new
(pending) fact for a conversation, and a fact completed with its slice and durations."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from hub.config.routing import CalendarSettings
from hub.core.calendar import BusinessCalendar
from hub.db.models import Conversation
from hub.db.report_models import ReportFact
from hub.reports.rollup import Slice


class ConversationLike(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def team_id(self) -> int | None: ...


class RememberingCalendar(BusinessCalendar):
    """A calendar that keeps each day's open spans once worked out (reports measure many
    durations over the same days; a rebuild, millions)."""

    def __init__(self, settings: CalendarSettings | None) -> None:
        super().__init__(settings)
        self._days: dict[date, list[tuple[datetime, datetime]]] = {}

    def _spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        found = self._days.get(day)
        if found is None:
            if len(self._days) > 20_000:
                self._days.clear()
            found = self._days[day] = super()._spans_on(day)
        return found


def new_fact(
    dedupe: str, kind: str, conversation: Conversation | ConversationLike, started_at: datetime
) -> ReportFact:
    return ReportFact(
        dedupe=dedupe,
        kind=kind,
        state="pending",
        conversation_id=conversation.id,
        metric="",
        outcome="",
        started_at=started_at,
        channel=conversation.channel,
        team_id=conversation.team_id,
        tier="",
        tags=[],
    )


def complete(
    fact: ReportFact,
    where: Slice,
    day: date,
    at: datetime,
    calendar: float | None,
    business: float | None,
) -> None:
    fact.state = "done"
    fact.ended_at = at
    fact.day = day
    fact.calendar_seconds = calendar
    fact.business_seconds = business
    fact.channel = where.channel
    fact.team_id = where.team_id
    fact.agent_id = where.agent_id
    fact.tier = where.tier
    fact.tags = list(where.tags)
