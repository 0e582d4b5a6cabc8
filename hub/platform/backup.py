"""``relaydesk backup`` and ``restore`` on SQLite: a consistent online copy of the database file
while the hub serves, packed with a manifest into one zip archive, and its restore into a new
(or stopped) hub's database, migrated up to the current schema.

Every attachment lives in the database (``stored_files`` and ``email_attachments`` hold the
bytes), so the snapshot is the whole of what the hub keeps. The copy uses SQLite's online backup
API from a connection that holds one read transaction for the whole copy: in WAL mode writers go
on meanwhile, and the copy is the database as of the moment the transaction began."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

FORMAT = "relaydesk-backup"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "relaydesk.sqlite3"
PAGES_PER_STEP = 2048
CHUNK = 1 << 20
# A database holding any of these rows is someone's hub; restore will not overwrite it unasked.
CONTENT_TABLES = ("agents", "customers", "conversations", "messages", "campaigns")
COUNTED = ("customers", "conversations", "messages", "stored_files", "email_attachments")

# (what is being done, done so far, total); units are pages or bytes.
Progress = Callable[[str, int, int], None]

POSTGRES_BACKUP = (
    "relaydesk backup copies SQLite databases; on PostgreSQL use "
    "pg_dump --format=custom --file=FILE DATABASE (see docs/backup.md)"
)
POSTGRES_RESTORE = (
    "relaydesk restore writes SQLite databases; on PostgreSQL use "
    "pg_restore --clean --if-exists --dbname=DATABASE FILE, then relaydesk migrate "
    "(see docs/backup.md)"
)


class BackupError(Exception):
    """One line for the user; nothing was written where it would do harm."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    archive: Path
    size: int
    counts: dict[str, int]
    schema: list[str]


def quiet(_stage: str, _done: int, _total: int) -> None:
    return None


def sqlite_file(url: str, refusal: str) -> Path:
    """The database file behind a SQLite URL (``refusal`` for any other database)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        raise BackupError(refusal)
    if parsed.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(str(parsed.database))


def schema_of(connection: sqlite3.Connection) -> list[str]:
    try:
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError:
        return []
    return sorted(str(row[0]) for row in rows)


def _tables(connection: sqlite3.Connection) -> set[str]:
    rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {str(row[0]) for row in rows}


def _first(connection: sqlite3.Connection, query: str) -> Any:
    row = connection.execute(query).fetchone()
    return None if row is None else row[0]


def counts_of(connection: sqlite3.Connection) -> dict[str, int]:
    present = _tables(connection)  # table names are ours (COUNTED), not input
    return {
        name: int(_first(connection, f'SELECT count(*) FROM "{name}"'))  # noqa: S608
        for name in COUNTED
        if name in present
    }


@contextmanager
def partial_file(target: Path) -> Iterator[Path]:
    """A file beside ``target`` that becomes it only if the block finishes."""
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        with suppress(FileNotFoundError):
            path.unlink()


def _snapshot(source: Path, copy: Path, progress: Progress, pages: int) -> list[str]:
    """Copy the live database into ``copy`` as of one moment; returns its schema revisions."""
    with closing(sqlite3.connect(source, isolation_level=None, timeout=30)) as src:
        src.execute("BEGIN")  # one read snapshot for the whole copy; writers go on (WAL)
        schema = schema_of(src)
        if not schema:
            raise BackupError(f"{source} is not a Relaydesk database (no schema version)")
        with closing(sqlite3.connect(copy)) as dst:
            src.backup(
                dst,
                pages=pages,
                progress=lambda _status, left, total: progress(
                    "copying database", total - left, total
                ),
            )
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            if dst.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError("the copy failed its integrity check; nothing was written")
        src.execute("COMMIT")
    return schema


def create_backup(
    url: str,
    archive: Path,
    *,
    now: datetime,
    progress: Progress = quiet,
    pages_per_step: int = PAGES_PER_STEP,
) -> BackupSummary:
    """Write the backup archive of the SQLite database at ``url`` to ``archive`` (replaced only
    once complete)."""
    source = sqlite_file(url, POSTGRES_BACKUP)
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    archive = archive.resolve()
    if not archive.parent.is_dir():
        raise BackupError(f"the folder {archive.parent} does not exist")
    with partial_file(archive) as copy, partial_file(archive) as packed:
        try:
            schema = _snapshot(source, copy, progress, pages_per_step)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"cannot copy {source}: {exc}") from None
        with closing(sqlite3.connect(copy)) as snapshot:
            counts = counts_of(snapshot)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": now.isoformat(),
            "database": DATABASE,
            "schema": schema,
            "counts": counts,
            "attachments": "in the database (stored_files, email_attachments)",
        }
        _pack(copy, packed, manifest, progress)
        os.replace(packed, archive)
    return BackupSummary(archive, archive.stat().st_size, counts, schema)


def _pack(copy: Path, packed: Path, manifest: dict[str, Any], progress: Progress) -> None:
    total = copy.stat().st_size
    # Level 1: most of the gain at a fraction of the time (bench/backup.py).
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        zipped.writestr(MANIFEST, json.dumps(manifest, indent=2))
        done = 0
        with copy.open("rb") as src, zipped.open(DATABASE, "w", force_zip64=True) as dst:
            while chunk := src.read(CHUNK):
                dst.write(chunk)
                done += len(chunk)
                progress("compressing", done, total)
    with packed.open("rb") as written:
        os.fsync(written.fileno())


def read_manifest(archive: Path) -> dict[str, Any]:
    """The manifest of a Relaydesk backup (BackupError for any other file)."""
    if not archive.is_file():
        raise BackupError(f"there is no file {archive}")
    not_ours = BackupError(f"{archive} is not a Relaydesk backup")
    if not zipfile.is_zipfile(archive):
        raise not_ours
    try:
        with zipfile.ZipFile(archive) as zipped:
            names = set(zipped.namelist())
            if MANIFEST not in names or DATABASE not in names:
                raise not_ours
            manifest = json.loads(zipped.read(MANIFEST))
    except (zipfile.BadZipFile, ValueError, OSError):
        raise not_ours from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise not_ours
    if manifest.get("version") != VERSION:
        raise BackupError(f"{archive} is a backup format this Relaydesk does not read")
    return manifest


def holds_data(database: Path) -> bool:
    """Whether the file is a database with agents, customers, conversations or campaigns."""
    if not database.exists() or database.stat().st_size == 0:
        return False
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            present = _tables(connection)
            return any(
                _first(connection, f'SELECT 1 FROM "{name}" LIMIT 1') is not None  # noqa: S608
                for name in CONTENT_TABLES
                if name in present
            )
    except sqlite3.DatabaseError:
        return True  # not a database we can read: never overwrite it unasked
