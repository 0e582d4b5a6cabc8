"""Benchmark: what the settings overlay costs each hub process, on 127.0.0.1 only.

    .venv/bin/python bench/settings_overlay.py [--polls 2000] [--database-url URL]

Two settings stores on one database, as two hub processes have: one saves (an admin's change
to every console-editable key), the other notices and applies it. Prints the cost of one idle
poll (nothing changed: one small query; a process polls every ``admin.poll_seconds``) and the
time the other store takes to apply the change once it looks.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from hub.admin.settings_store import SettingsStore  # noqa: E402
from hub.assembly import database  # noqa: E402
from hub.config.settings import Settings, load_settings  # noqa: E402

CHANGES = {
    "instance_name": "Acme Help",
    "web.public_url": "https://help.example.com",
    "routing.default_priority": "high",
    "sla": {
        p: {"first_response_minutes": 30, "resolution_minutes": 600}
        for p in ("low", "normal", "high", "urgent")
    },
    "calendars": {
        "office": {"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-17:00"]}},
        "weekend": {"timezone": "UTC", "hours": {"sat": ["10:00-14:00"]}},
    },
}


async def run(url: str, polls: int) -> None:
    def settings() -> Settings:
        return load_settings(
            ROOT / "config" / "relaydesk.toml",
            environ={},
            overrides={"database.url": url, "database.auto_migrate": True},
        )

    writer, reader = SettingsStore(settings()), SettingsStore(settings())
    async with database(writer.live) as db:
        await reader.refresh(db)
        started = time.perf_counter()
        for _ in range(polls):
            await reader.refresh(db)
        idle = (time.perf_counter() - started) / polls
        now = datetime.now(UTC)
        async with db.writer() as session:
            for key, value in CHANGES.items():
                await writer.save(session, key, value, None, now)
            await session.commit()
        started = time.perf_counter()
        assert await reader.refresh(db)
        applied = time.perf_counter() - started
        assert reader.live.instance_name == "Acme Help"
    print(f"idle poll: {idle * 1e6:.0f} µs ({polls} polls)")
    print(f"applying {len(CHANGES)} changed keys in the other process: {applied * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.polls))


if __name__ == "__main__":
    main()
