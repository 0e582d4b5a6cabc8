"""``relaydesk reports rebuild [--since DATE]``: recompute reporting facts and rollups from
history, with a progress bar; registered by hub/cli.py."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from datetime import date
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from hub.config.settings import Settings
from hub.reports.rebuild import Rebuilt, rebuild
from hub.reports.record import Reports

Run = Callable[[Settings, Callable[[Any], Awaitable[Any]]], Coroutine[Any, Any, Any]]


class BadDate(ValueError):
    pass


def parse_since(raw: str | None) -> date | None:
    if raw is None:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadDate(f"--since: {raw!r} is not a date like 2026-03-01") from None


def cmd_reports_rebuild(args: argparse.Namespace, settings: Settings, run: Run) -> int:
    since = parse_since(args.since)
    reports = Reports(settings)
    columns = (
        TextColumn("rebuilding reports"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("conversations"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("rebuild", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def work(session: Any) -> Rebuilt:
            return await rebuild(session, reports, since, progress)

        done: Rebuilt = asyncio.run(run(settings, work))
    print(
        f"rebuilt {done.conversations} conversations: {done.facts} facts, "
        f"{done.rollup_rows} rollup rows" + (f" (days from {since.isoformat()})" if since else "")
    )
    return 0


def add_commands(
    commands: Any, common: argparse.ArgumentParser, handler: Callable[..., int]
) -> None:
    reports = commands.add_parser("reports", help="report facts and rollups").add_subparsers(
        dest="reports_command", required=True
    )
    rebuilt = reports.add_parser(
        "rebuild", help="recompute report facts and rollups from history", parents=[common]
    )
    rebuilt.add_argument("--since", help="only days from this date (YYYY-MM-DD) on")
    rebuilt.set_defaults(handler=handler)
