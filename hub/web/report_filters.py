"""Report filters from query parameters (the API and the pages read the same ones): a period
(default: the last 30 days in the account's time zone) and at most one value per dimension."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

from hub.core.errors import invalid_query
from hub.reports import sketch, texts
from hub.reports.drill import METRICS, Drill
from hub.reports.merge import Filters

MAX_DAYS = 366
DEFAULT_DAYS = 30
FIELDS = ("start", "end", "channel", "team_id", "agent_id", "tier", "tag")


def _date(raw: Mapping[str, str], name: str) -> date | None:
    value = raw.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_query(name, texts.BAD_DATE) from None


def _id(raw: Mapping[str, str], name: str) -> int | None:
    value = raw.get(name, "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit() or len(value) > 12:
        raise invalid_query(name, texts.BAD_ID)
    return int(value)


def _text(raw: Mapping[str, str], name: str) -> str | None:
    value = raw.get(name, "").strip()
    return value[:100] or None


def parse_filters(raw: Mapping[str, str], today: date, now: datetime | None = None) -> Filters:
    """``now`` is the hub clock's (what is still going on counts until then). Raises
    ``ApiError`` (400 naming the parameter)."""
    end = _date(raw, "end") or today
    start = _date(raw, "start") or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        raise invalid_query("end", texts.END_BEFORE_START)
    if (end - start).days + 1 > MAX_DAYS:
        raise invalid_query("start", texts.TOO_LONG.format(days=MAX_DAYS))
    return Filters(
        start,
        end,
        channel=_text(raw, "channel"),
        team_id=_id(raw, "team_id"),
        agent_id=_id(raw, "agent_id"),
        tier=_text(raw, "tier"),
        tag=_text(raw, "tag"),
        now=now,
    )


def parse_drill(raw: Mapping[str, str]) -> Drill:
    metric = raw.get("metric", "")
    if metric not in METRICS:
        raise invalid_query("metric", texts.UNKNOWN_METRIC.format(metrics=", ".join(METRICS)))
    bucket = None
    if raw.get("bucket", "").strip():
        last = len(sketch.BOUNDS)
        value = raw["bucket"].strip()
        if not value.isdigit() or int(value) > last:
            raise invalid_query("bucket", texts.BAD_BUCKET.format(last=last))
        bucket = int(value)
    clock = raw.get("clock", "calendar") or "calendar"
    if clock not in ("calendar", "business"):
        raise invalid_query("clock", texts.BAD_CLOCK)
    return Drill(metric, bucket, clock)
