"""Business-hours calendars: weekly opening spans in a time zone, minus holidays. They answer
"is it open now", "how much open time lies between two moments" and "when will this much open
time have passed", which is what SLA targets are measured in. No calendar: open around the clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hub.config.routing import WEEKDAYS, CalendarSettings

MAX_DAYS = 1100  # how far ahead an open span is looked for before giving up


class CalendarClosed(ValueError):
    """The calendar has no open time within ``MAX_DAYS``."""


class BusinessCalendar:
    def __init__(self, settings: CalendarSettings | None = None) -> None:
        self.always_open = settings is None or not any(settings.hours.values())
        self.zone = ZoneInfo(settings.timezone if settings else "UTC")
        self.hours = dict(settings.hours) if settings else {}
        self.holidays = frozenset(settings.holidays) if settings else frozenset()

    def _moment(self, day: date, hhmm: str) -> datetime:
        hour, minute = int(hhmm[:2]), int(hhmm[3:5])
        if hour == 24:
            day, hour = day + timedelta(days=1), 0
        return datetime.combine(day, time(hour, minute), self.zone).astimezone(UTC)

    def _spans_on(self, day: date) -> list[tuple[datetime, datetime]]:
        if day in self.holidays:
            return []
        spans = self.hours.get(WEEKDAYS[day.weekday()], ())
        return sorted((self._moment(day, s[:5]), self._moment(day, s[6:])) for s in spans)

    def spans(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open spans that end after ``start``, in order (clipped to begin at ``start``)."""
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            for opens, closes in self._spans_on(day + timedelta(days=offset)):
                if closes > start:
                    yield max(opens, start), closes

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        local = at.astimezone(self.zone).date()
        return any(opens <= at < closes for opens, closes in self._spans_on(local))

    def open_seconds(self, start: datetime, end: datetime) -> float:
        """Open time between ``start`` and ``end``, in seconds."""
        if end <= start:
            return 0.0
        if self.always_open:
            return (end - start).total_seconds()
        total = 0.0
        for opens, closes in self.spans(start):
            if opens >= end:
                break
            total += (min(closes, end) - opens).total_seconds()
        return total

    def add(self, start: datetime, seconds: float) -> datetime:
        """The moment at which ``seconds`` of open time have passed since ``start``."""
        if self.always_open:
            return start + timedelta(seconds=seconds)
        remaining = seconds
        for opens, closes in self.spans(start):
            available = (closes - opens).total_seconds()
            if remaining <= available:
                return opens + timedelta(seconds=remaining)
            remaining -= available
        raise CalendarClosed(f"no open time within {MAX_DAYS} days")


def calendar_named(calendars: dict[str, CalendarSettings], name: str | None) -> BusinessCalendar:
    return BusinessCalendar(calendars.get(name) if name else None)
