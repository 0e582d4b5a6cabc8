"""Each report's table as CSV (durations in seconds, calendar and business hours)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hub.reports import figures, sketch

Writer = Callable[[dict[str, Any]], str]


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(["" if value is None else value for value in row] for row in rows)
    return out.getvalue()


def times_csv(found: dict[str, Any]) -> str:
    header = ["metric", "clock", "count", "median_seconds", "p90_seconds", "mean_seconds"]
    header += [f"histogram {label}" for label in sketch.LABELS]
    rows = []
    for item in found["items"]:
        for clock in ("calendar", "business"):
            spread = item[clock]
            rows.append(
                [
                    item["metric"],
                    clock,
                    item["count"],
                    spread["median"],
                    spread["p90"],
                    spread["mean"],
                    *spread["histogram"],
                ]
            )
    return _csv(header, rows)


def volume_csv(found: dict[str, Any]) -> str:
    rows = []
    for channel in found["channels"]:
        for day, messages, conversations in zip(
            found["days"],
            channel["messages_by_day"],
            channel["conversations_by_day"],
            strict=True,
        ):
            rows.append([day.isoformat(), channel["channel"], messages, conversations])
    return _csv(["day", "channel", "customer_messages", "new_conversations"], rows)


def sla_csv(found: dict[str, Any]) -> str:
    keys = (
        "first_response_met",
        "first_response_breached",
        "first_response_percent",
        "resolution_met",
        "resolution_breached",
        "resolution_percent",
    )
    rows = [["all", "All", *(found["overall"][k] for k in keys)]]
    for by in ("teams", "agents"):
        rows += [[by[:-1], row["name"], *(row[k] for k in keys)] for row in found[by]]
    return _csv(["by", "name", *keys], rows)


def csat_csv(found: dict[str, Any]) -> str:
    rows = [[score, n] for score, n in found["scores"].items()]
    rows += [
        ["answers", found["answers"]],
        ["surveys", found["surveys"]],
        ["average", found["average"]],
        ["response_rate_percent", found["response_rate_percent"]],
    ]
    return _csv(["score", "count"], rows)


def agents_csv(found: dict[str, Any]) -> str:
    keys = (
        "agent_id",
        "name",
        "replies",
        "resolutions",
        "first_response_mean",
        "time_online_seconds",
    )
    return _csv(keys, ([row[k] for k in keys] for row in found["items"]))


BUILDERS: dict[str, tuple[figures.Figures, Writer]] = {
    "times": (figures.response_times, times_csv),
    "volume": (figures.volume, volume_csv),
    "sla": (figures.sla, sla_csv),
    "csat": (figures.csat, csat_csv),
    "agents": (figures.agents, agents_csv),
}
