"""``relaydesk campaigns list|show|send|pause|resume|cancel|retry|export`` (registered by
hub/cli.py, which prints errors and sets the exit status). The commands act as an
administrator (whoever can run them can open the database anyway). ``send --wait`` sends from
this process too (safe next to a running hub: recipients are claimed row by row) and shows a
progress bar until every recipient is accounted for."""

from __future__ import annotations

import argparse
import asyncio
import csv
import sys
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.assembly import Hub, assemble
from hub.campaigns import drafting, retries, send_control, send_progress
from hub.campaigns.texts import SKIP_REASONS
from hub.campaigns.views import CampaignError
from hub.campaigns.views import Progress as SendProgress
from hub.config.settings import Settings
from hub.core.authz import Principal
from hub.core.errors import ApiError
from hub.db.campaign_models import RecipientState
from hub.db.models import Role

OPERATOR = Principal(agent_id=0, role=Role.ADMIN, team_ids=frozenset())
STATES = [state for state in RecipientState]
EXPORT_FIELDS = (
    "recipient_id",
    "customer_id",
    "customer_name",
    "address",
    "channel",
    "state",
    "skip_reason",
    "error",
    "message_ref",
    "attempts",
    "queued_at",
    "sent_at",
    "replied_at",
    "unsubscribed_at",
    "bounced_at",
)


class CampaignCliError(Exception):
    """A message for the user; the command exits non-zero."""


def add_campaign_parsers(
    commands: Any, common: argparse.ArgumentParser, handler: Callable[[argparse.Namespace], int]
) -> None:
    campaigns = commands.add_parser("campaigns", help="marketing campaigns").add_subparsers(
        dest="campaigns_command", required=True
    )
    listing = campaigns.add_parser("list", help="every campaign with its counts", parents=[common])
    listing.add_argument("--state", help="only campaigns in this state")
    show = campaigns.add_parser("show", help="one campaign's progress", parents=[common])
    send = campaigns.add_parser("send", help="send a draft now", parents=[common])
    send.add_argument("--wait", action="store_true", help="send from here; progress bar")
    pause = campaigns.add_parser("pause", help="pause a sending campaign", parents=[common])
    resume = campaigns.add_parser("resume", help="resume a paused campaign", parents=[common])
    cancel = campaigns.add_parser(
        "cancel", help="cancel; queued recipients are dropped", parents=[common]
    )
    retry = campaigns.add_parser("retry", help="queue failed recipients again", parents=[common])
    retry.add_argument(
        "--unconfirmed",
        action="store_true",
        help="queue the unconfirmed instead (they may get the message twice)",
    )
    export = campaigns.add_parser("export", help="per-recipient outcomes as CSV", parents=[common])
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    for sub in (show, send, pause, resume, cancel, retry, export):
        sub.add_argument("campaign", type=int, help="the campaign's id")
    for sub in (listing, show, send, pause, resume, cancel, retry, export):
        sub.set_defaults(handler=handler)


def run_campaigns(args: argparse.Namespace, settings: Settings) -> int:
    command = args.campaigns_command
    try:
        if command == "send" and args.wait:
            return asyncio.run(_send_and_wait(settings, args.campaign))
        if command == "export":
            return _export_to(settings, args.campaign, args.output)
        return asyncio.run(_COMMANDS[command](settings, args))
    except CampaignError as exc:
        lines = [f"{field}: {problem}" for field, problem in exc.fields.items()]
        raise CampaignCliError("\n  ".join(lines)) from None
    except ApiError as exc:
        raise CampaignCliError(exc.message) from None


def _console() -> Console:
    return Console(file=sys.stdout, highlight=False)


def _counts(progress: SendProgress) -> str:
    shown = [
        f"{progress.count(state)} {state.name.lower()}" for state in STATES if progress.count(state)
    ]
    return ", ".join(shown) or "no recipients yet"


async def _list(settings: Settings, args: argparse.Namespace) -> int:
    async with assemble(settings, start_workers=False) as hub, hub.db.reader() as session:
        views = await drafting.list_campaigns(session, OPERATOR, state=args.state, limit=1000)
        table = Table(
            "id", "name", "state", "recipients", "sent", "failed", "skipped", "unconfirmed"
        )
        for view in views:
            progress = await send_progress.progress(session, OPERATOR, view.id)
            table.add_row(
                str(view.id),
                view.name,
                view.state,
                str(progress.recipients),
                *(
                    str(progress.count(state))
                    for state in (
                        RecipientState.SENT,
                        RecipientState.FAILED,
                        RecipientState.SKIPPED,
                        RecipientState.UNCONFIRMED,
                    )
                ),
            )
    _console().print(table if views else "no campaigns yet")
    return 0


async def _show(settings: Settings, args: argparse.Namespace) -> int:
    async with assemble(settings, start_workers=False) as hub, hub.db.reader() as session:
        view = await drafting.get_campaign(session, OPERATOR, args.campaign)
        progress = await send_progress.progress(session, OPERATOR, view.id)
    out = _console()
    out.print(f"campaign {view.id}: {view.name}  [{view.state}]")
    out.print(f"  segment: {view.segment_id}   fallback: {', '.join(view.fallback) or 'default'}")
    for label, moment in (
        ("scheduled", view.scheduled_at),
        ("started", view.started_at),
        ("finished", view.finished_at),
    ):
        if moment is not None:
            out.print(f"  {label}: {moment:%Y-%m-%d %H:%M:%S} UTC")
    out.print(f"  recipients: {progress.recipients}: {_counts(progress)}")
    for reason, number in sorted(progress.skipped.items()):
        out.print(f"    skipped, {SKIP_REASONS.get(reason, reason)}: {number}")
    for channel, states in sorted(progress.channels.items()):
        per = ", ".join(f"{number} {state}" for state, number in sorted(states.items()))
        out.print(f"  via {channel}: {per}")
    if view.state == "finished" and progress.accounted:
        out.print("  every recipient is accounted for")
    return 0


async def _transition(settings: Settings, args: argparse.Namespace) -> int:
    command = args.campaigns_command
    async with assemble(settings, start_workers=False) as hub, hub.db.writer() as session:
        now = hub.clock.now()
        if command == "send":
            await send_control.send_now(
                session, OPERATOR, hub.campaigns.context, args.campaign, now
            )
        elif command == "retry":
            action = retries.retry_unconfirmed if args.unconfirmed else retries.retry_failed
            count = await action(session, OPERATOR, args.campaign, now)
            print(f"{count} recipient(s) queued again")
        else:
            await getattr(send_control, command)(session, OPERATOR, args.campaign, now)
        await session.commit()
        progress = await send_progress.progress(session, OPERATOR, args.campaign)
    print(f"campaign {args.campaign} is {progress.state}: {_counts(progress)}")
    if command == "send":
        print("the running hub sends it (or use: relaydesk campaigns send --wait)")
    return 0


async def _send_and_wait(settings: Settings, campaign_id: int) -> int:
    """Send now (unless already sending) and run a sender here until finished."""
    async with assemble(settings, start_workers=False) as hub, AsyncExitStack() as stack:
        async with hub.db.writer() as session:
            view = await drafting.get_campaign(session, OPERATOR, campaign_id)
            if view.state in ("draft", "scheduled"):
                await send_control.send_now(
                    session, OPERATOR, hub.campaigns.context, campaign_id, hub.clock.now()
                )
                await session.commit()
        for channel in hub.channels.values():
            await channel.start()
            stack.push_async_callback(channel.stop)
        await hub.campaigns.worker.start()
        stack.push_async_callback(hub.campaigns.worker.stop)
        return await _watch(hub, campaign_id)


async def _watch(hub: Hub, campaign_id: int) -> int:
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
    )
    with bar:
        task = bar.add_task(f"campaign {campaign_id}", total=None, counts="")
        while True:
            async with hub.db.reader() as session:
                progress = await send_progress.progress(session, OPERATOR, campaign_id)
            done = sum(
                progress.count(state)
                for state in STATES
                if state not in (RecipientState.QUEUED, RecipientState.SENDING)
            )
            bar.update(task, total=progress.recipients, completed=done, counts=_counts(progress))
            if progress.state not in ("sending", "scheduled"):
                break
            await asyncio.sleep(0.5)
    print(f"campaign {campaign_id} is {progress.state}: {_counts(progress)}")
    return 0 if progress.state == "finished" else 1


async def _export(settings: Settings, campaign_id: int, target: TextIO) -> int:
    async with assemble(settings, start_workers=False) as hub, hub.db.reader() as session:
        progress = await send_progress.progress(session, OPERATOR, campaign_id)
        writer = csv.writer(target)
        writer.writerow(EXPORT_FIELDS)
        bar = Progress(
            TextColumn("export"),
            BarColumn(),
            MofNCompleteColumn(),
            console=Console(file=sys.stderr),
        )
        with bar:
            task = bar.add_task("export", total=progress.recipients)
            async for row in send_progress.recipient_outcomes(session, OPERATOR, campaign_id):
                writer.writerow([_cell(getattr(row, name)) for name in EXPORT_FIELDS])
                bar.advance(task)
    return 0


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _export_to(settings: Settings, campaign_id: int, output: str | None) -> int:
    """To standard output, or to ``output`` (written aside and moved in place when complete)."""
    if not output:
        return asyncio.run(_export(settings, campaign_id, sys.stdout))
    part = Path(f"{output}.part")
    try:
        with part.open("w", newline="", encoding="utf-8") as target:
            result = asyncio.run(_export(settings, campaign_id, target))
        part.replace(output)
    finally:
        part.unlink(missing_ok=True)
    return result


_COMMANDS = {
    "list": _list,
    "show": _show,
    "send": _transition,
    "pause": _transition,
    "resume": _transition,
    "cancel": _transition,
    "retry": _transition,
}
