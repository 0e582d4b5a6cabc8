"""``relaydesk restore FILE``: a backup archive (hub/platform/backup.py) into a new or stopped
hub's SQLite database, checked, migrated up to the current schema, and swapped in whole."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.util import CommandError

from hub.platform.backup import (
    CHUNK,
    DATABASE,
    POSTGRES_RESTORE,
    BackupError,
    Progress,
    counts_of,
    holds_data,
    partial_file,
    quiet,
    read_manifest,
    schema_of,
    sqlite_file,
)
from hub.platform.migrate import upgrade


@dataclass(frozen=True, slots=True)
class RestoreSummary:
    database: Path
    created_at: str
    counts: dict[str, int]
    schema_before: list[str]
    schema_after: list[str]


def _extract(archive: Path, target: Path, progress: Progress) -> None:
    with zipfile.ZipFile(archive) as zipped:
        total = zipped.getinfo(DATABASE).file_size
        done = 0
        with zipped.open(DATABASE) as src, target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                done += len(chunk)
                progress("extracting", done, total)
            dst.flush()
            os.fsync(dst.fileno())


def _check(copy: Path, archive: Path) -> list[str]:
    try:
        with closing(sqlite3.connect(copy)) as connection:
            if connection.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"the database in {archive} is damaged")
            schema = schema_of(connection)
    except sqlite3.DatabaseError:
        raise BackupError(f"the database in {archive} is damaged") from None
    if not schema:
        raise BackupError(f"{archive} is not a Relaydesk backup (no schema version)")
    return schema


def restore_backup(
    archive: Path, url: str, *, force: bool = False, progress: Progress = quiet
) -> RestoreSummary:
    """Replace the SQLite database at ``url`` by the backup's, migrated to the current schema.
    Refuses a database holding data unless ``force``; the hub using it must be stopped."""
    target = sqlite_file(url, POSTGRES_RESTORE).resolve()
    manifest: dict[str, Any] = read_manifest(archive)
    if holds_data(target) and not force:
        raise BackupError(
            f"the database {target} already holds data; stop its hub and pass --force to replace it"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with partial_file(target) as copy:
        _extract(archive, copy, progress)
        before = _check(copy, archive)
        progress("migrating", 0, 1)
        try:
            upgrade(f"sqlite+aiosqlite:///{copy}")
        except CommandError as exc:
            raise BackupError(
                f"cannot bring the backup's schema {', '.join(before)} up to date: {exc}"
            ) from None
        progress("migrating", 1, 1)
        with closing(sqlite3.connect(copy)) as connection:
            after, counts = schema_of(connection), counts_of(connection)
            connection.execute("PRAGMA journal_mode=WAL")
        # The old database's write-ahead log must not be replayed onto the restored file.
        for suffix in ("-wal", "-shm", "-journal"):
            with suppress(FileNotFoundError):
                Path(f"{target}{suffix}").unlink()
        os.replace(copy, target)
    return RestoreSummary(target, str(manifest.get("created_at", "")), counts, before, after)
