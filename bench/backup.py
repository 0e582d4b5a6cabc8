"""Benchmark: ``relaydesk backup`` of a large SQLite hub while a writer keeps committing, and the
restore of that backup into a new database, on a temporary folder.

    .venv/bin/python bench/backup.py [--messages 100000] [--files 400] [--file-kb 100]

Seeds one migrated database with N messages (about 1 KB of text each, in conversations of 10)
and F stored files of random (incompressible) bytes, then measures:

* backup: seconds, MB/s of database copied, archive size; meanwhile a thread commits one
  message at a time (WAL, synchronous=FULL, as the hub does): how many it committed during the
  backup and its commit latency (median, p99, max) against the same writer before the backup.
  Target: writes go on (commits during the backup > 0, p99 within a few times the idle p99).
* restore into a new database (extract, check, migrate, swap): seconds.
* the restored database holds exactly the messages committed before the backup began, or more
  (the snapshot's moment), and every file.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import os  # noqa: E402
import sqlite3  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from sqlalchemy import create_engine, insert  # noqa: E402

from hub.db.file_models import StoredFile  # noqa: E402
from hub.db.models import Conversation, Customer, Message  # noqa: E402
from hub.platform.backup import create_backup  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402
from hub.platform.restore import restore_backup  # noqa: E402

NOW = datetime.now(UTC)
TEXT = "The parcel arrived damaged and I would like a refund or a replacement, please. " * 13


def seed(path: Path, messages: int, files: int, file_kb: int) -> None:
    upgrade(f"sqlite+aiosqlite:///{path}")
    engine = create_engine(f"sqlite:///{path}")
    conversations = max(1, messages // 10)
    with engine.begin() as db:
        db.execute(insert(Customer), [{"name": "Bench", "created_at": NOW}])
        db.execute(
            insert(Conversation),
            [
                {
                    "token": f"t{n:030d}",
                    "customer_id": 1,
                    "channel": "mail",
                    "created_at": NOW,
                    "last_activity_at": NOW,
                }
                for n in range(conversations)
            ],
        )
        for start in range(0, messages, 10_000):
            db.execute(
                insert(Message),
                [
                    {
                        "conversation_id": 1 + n % conversations,
                        "customer_id": 1,
                        "direction": "inbound",
                        "channel": "mail",
                        "text": TEXT,
                        "created_at": NOW,
                    }
                    for n in range(start, min(messages, start + 10_000))
                ],
            )
        for n in range(files):
            content = os.urandom(file_kb * 1024)
            db.execute(
                insert(StoredFile),
                [
                    {
                        "message_id": 1 + n,
                        "position": 0,
                        "filename": f"f{n}.bin",
                        "content_type": "application/octet-stream",
                        "size": len(content),
                        "sha256": "",
                        "content": content,
                        "created_at": NOW,
                    }
                ],
            )
    engine.dispose()


class Writer(threading.Thread):
    """Commits one message at a time until stopped, recording each commit's latency."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.latencies: list[tuple[float, float]] = []  # (start, seconds)
        self.stop = threading.Event()

    def run(self) -> None:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        while not self.stop.is_set():
            started = time.perf_counter()
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO messages (conversation_id, customer_id, direction, channel, subject,"
                " text, attachments, raw, automated, delivery_state, created_at)"
                " VALUES (1, 1, 'inbound', 'mail', '', ?, '[]', '{}', 0, 'received', ?)",
                (TEXT, NOW.isoformat()),
            )
            db.execute("COMMIT")
            self.latencies.append((started, time.perf_counter() - started))
        db.close()


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"median {statistics.median(ordered) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
        f"max {ordered[-1] * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--files", type=int, default=400)
    parser.add_argument("--file-kb", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "hub.db"
        seed(path, args.messages, args.files, args.file_kb)
        size = path.stat().st_size
        print(f"database: {size / 1e6:.1f} MB ({args.messages} messages, {args.files} files)")
        writer = Writer(path)
        writer.start()
        time.sleep(2.0)
        began = time.perf_counter()
        committed_before = len(writer.latencies)
        summary = create_backup(f"sqlite+aiosqlite:///{path}", Path(folder) / "b.zip", now=NOW)
        ended = time.perf_counter()
        writer.stop.set()
        writer.join()
        idle = [s for t, s in writer.latencies if t < began]
        during = [s for t, s in writer.latencies if began <= t < ended]
        print(
            f"backup: {ended - began:.2f} s ({size / 1e6 / (ended - began):.0f} MB/s), "
            f"archive {summary.size / 1e6:.1f} MB"
        )
        print(f"writer before the backup: {len(idle)} commits, {spread(idle)}")
        print(f"writer during the backup: {len(during)} commits, {spread(during)}")
        started = time.perf_counter()
        restored = Path(folder) / "restored.db"
        done = restore_backup(summary.archive, f"sqlite+aiosqlite:///{restored}")
        print(f"restore: {time.perf_counter() - started:.2f} s")
        kept = done.counts["messages"]
        assert kept >= args.messages + committed_before, (kept, committed_before)
        assert done.counts["stored_files"] == args.files
        print(
            f"restored: {kept} messages (seeded {args.messages}, {committed_before} committed "
            f"before the backup began, {kept - args.messages - committed_before} during), "
            f"{done.counts['stored_files']} files"
        )


if __name__ == "__main__":
    main()
