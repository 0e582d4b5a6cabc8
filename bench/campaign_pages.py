"""Campaign pages benchmark (not a test): what one poll of the live progress costs, and the
campaign list's counts, for a 100,000-recipient campaign, read with the functions the pages call
(hub/web/ui/campaigns_send.py answers one poll a second per open page with one grouped query).

    .venv/bin/python -m bench.campaign_pages [--recipients 100000] [--polls 50] [--database-url URL]

The recipient rows are written in bulk first (bench/campaign_results.py's ``fill``)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import create_async_engine

from bench.campaign_results import ROOT, fill
from hub.assembly import database
from hub.campaigns import drafting
from hub.config.settings import load_settings
from hub.core.authz import Principal
from hub.db.models import Role
from hub.platform.database import Database
from hub.web.campaign_common import list_with_counts, state_counts
from hub.web.ui.campaigns_send import progress_document

MARKETER = Principal(agent_id=0, role=Role.MARKETER, team_ids=frozenset())


def summary(label: str, timings: list[float]) -> None:
    ordered = sorted(timings)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    print(
        f"{label}: p50 {statistics.median(ordered) * 1000:,.1f} ms, "
        f"p95 {p95 * 1000:,.1f} ms over {len(ordered)} calls"
    )


async def measure(db: Database, url: str, count: int, polls: int) -> None:
    began = time.perf_counter()
    campaign_id = await fill(db, count)
    print(f"{count:,} recipient rows written in {time.perf_counter() - began:.1f} s")
    if not db.is_sqlite:  # the steady state autovacuum reaches: index-only counts
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.exec_driver_sql("VACUUM ANALYZE campaign_recipients")
        await engine.dispose()
    poll: list[float] = []
    listing: list[float] = []
    for _ in range(polls):
        t0 = time.perf_counter()
        async with db.reader() as session:
            view = await drafting.get_campaign(session, MARKETER, campaign_id)
            counts = await state_counts(session, campaign_id)
            document = progress_document(view, counts)
        poll.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        async with db.reader() as session:
            rows = await list_with_counts(session, MARKETER)
        listing.append(time.perf_counter() - t0)
    summary("one progress poll (campaign + counts)", poll)
    summary("campaign list counts", listing)
    print(document["explanation"])
    assert rows[0].recipients == count


async def run(url: str, count: int, polls: int) -> None:
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={"database.url": url, "database.auto_migrate": True, "capture.enabled": False},
    )
    async with database(settings) as db:
        await measure(db, url, count, polls)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--polls", type=int, default=50)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.recipients, args.polls))


if __name__ == "__main__":
    main()
