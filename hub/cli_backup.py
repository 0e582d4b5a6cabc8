"""``relaydesk backup FILE`` and ``relaydesk restore FILE [--force]``, with a progress bar;
registered by hub/cli.py. What they do is in hub/platform/backup.py and restore.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from hub.config.settings import Settings
from hub.platform.backup import BackupError, create_backup
from hub.platform.clock import SystemClock
from hub.platform.restore import restore_backup

Bar = Callable[[str, int, int], None]


@contextmanager
def progress_bar() -> Iterator[Bar]:
    """A bar per stage on stderr when it is a terminal (stdout keeps the one result line)."""
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    console = Console(stderr=True)
    with Progress(
        *columns, TimeElapsedColumn(), console=console, disable=not console.is_terminal
    ) as bar:
        tasks: dict[str, object] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total or None)
            bar.update(tasks[stage], completed=done, total=total or None)  # type: ignore[arg-type]

        yield update


def _counted(counts: dict[str, int]) -> str:
    files = counts.get("stored_files", 0) + counts.get("email_attachments", 0)
    return (
        f"{counts.get('customers', 0)} customers, {counts.get('conversations', 0)} conversations, "
        f"{counts.get('messages', 0)} messages, {files} attachments"
    )


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    with progress_bar() as bar:
        done = create_backup(
            settings.database.url, Path(args.file), now=SystemClock().now(), progress=bar
        )
    print(f"backup written to {done.archive} ({done.size} bytes): {_counted(done.counts)}")
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    with progress_bar() as bar:
        done = restore_backup(
            Path(args.file), settings.database.url, force=args.force, progress=bar
        )
    print(
        f"restored the backup of {done.created_at} into {done.database}: {_counted(done.counts)}"
        f" (schema {', '.join(done.schema_after)})"
    )
    return 0


def add_commands(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg]
    common: argparse.ArgumentParser,
    handler: Callable[..., int],
) -> None:
    backup = commands.add_parser(
        "backup",
        help="write a consistent backup of the SQLite database (hub may run)",
        parents=[common],
    )
    backup.add_argument("file", metavar="FILE", help="the backup archive to write (.zip)")
    backup.set_defaults(handler=handler, backup_command=cmd_backup)
    restore = commands.add_parser(
        "restore", help="restore a backup into this hub's database (hub stopped)", parents=[common]
    )
    restore.add_argument("file", metavar="FILE", help="a file written by relaydesk backup")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds data"
    )
    restore.set_defaults(handler=handler, backup_command=cmd_restore)


__all__ = ["BackupError", "add_commands"]
