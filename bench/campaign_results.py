"""Campaign results benchmark (not a test): the counts, the series over time, the charts and
the full CSV export of a 100,000-recipient campaign, read with the functions the marketer's
pages call (hub/campaigns/results.py).

    .venv/bin/python -m bench.campaign_results [--recipients 100000] [--database-url URL]

The recipient rows are written in bulk first (every state, two channels, sends spread over an
hour, some replies, unsubscribes and bounces). Counts and series are SQL aggregates, so their
time is the database's; the CSV is streamed in chunks, so memory stays flat (peak RSS shown).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from hub.assembly import database
from hub.campaigns.results import (
    activity_chart,
    activity_over_time,
    campaign_results,
    export_csv,
    results_chart,
    sends_over_time,
)
from hub.config.settings import load_settings
from hub.db.campaign_models import Campaign, CampaignRecipient
from hub.db.models import Customer, Identity
from hub.platform.database import Database

ROOT = Path(__file__).resolve().parent.parent
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STATES = ["sent"] * 14 + ["failed", "skipped", "pending", "unconfirmed", "sending", "cancelled"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def fill(db: Database, count: int) -> int:
    async with db.writer() as session:
        campaign = Campaign(
            name="Bench",
            state="sending",
            fallback=[],
            content={},
            created_at=START,
            updated_at=START,
        )
        session.add(campaign)
        await session.flush()
        first = 1
        for start in range(0, count, 10_000):
            numbers = range(start, min(count, start + 10_000))
            await session.execute(
                insert(Customer),
                [
                    {
                        "id": first + n,
                        "name": f"Customer {n}",
                        "created_at": START,
                        "tags": [],
                        "attributes": {},
                        "consent": {},
                    }
                    for n in numbers
                ],
            )
            await session.execute(
                insert(Identity),
                [
                    {
                        "id": first + n,
                        "customer_id": first + n,
                        "kind": "email" if n % 3 else "telegram",
                        "address": f"c{n}@example.com" if n % 3 else str(5_000_000 + n),
                        "created_at": START,
                    }
                    for n in numbers
                ],
            )
            rows: list[dict[str, Any]] = []
            for n in numbers:
                state = STATES[n % len(STATES)]
                sent = START + timedelta(seconds=n * 3600 // count) if state == "sent" else None
                rows.append(
                    {
                        "campaign_id": campaign.id,
                        "customer_id": first + n,
                        "identity_id": first + n,
                        "channel": "mail" if n % 3 else "tg",
                        "state": state,
                        "skip_reason": ("opted_out", "capped", "quiet_hours")[n % 3]
                        if state == "skipped"
                        else None,
                        "last_error": "550 mailbox unavailable" if state == "failed" else None,
                        "message_ref": f"<bench.{n}@relaydesk.local>",
                        "queued_at": START,
                        "next_attempt_at": START,
                        "attempts": 0,
                        "sent_at": sent,
                        "replied_at": sent + timedelta(minutes=5) if sent and n % 50 == 0 else None,
                        "unsubscribed_at": sent + timedelta(minutes=9)
                        if sent and n % 97 == 0
                        else None,
                        "bounced_at": sent + timedelta(minutes=1) if sent and n % 61 == 0 else None,
                    }
                )
            await session.execute(insert(CampaignRecipient), rows)
        await session.commit()
        return campaign.id


async def timed(label: str, work: Any) -> Any:
    began = time.perf_counter()
    result = await work
    print(f"{label}: {(time.perf_counter() - began) * 1000:,.0f} ms")
    return result


async def measure(db: Database, count: int) -> None:
    began = time.perf_counter()
    campaign_id = await fill(db, count)
    print(f"{count:,} recipient rows written in {time.perf_counter() - began:.1f} s")
    async with db.reader() as session:
        results = await timed(
            "counts (campaign + per channel)", campaign_results(session, campaign_id)
        )
        series = await timed(
            "sends over time (per minute, channel)", sends_over_time(session, campaign_id)
        )
        activity = await timed("activity over time", activity_over_time(session, campaign_id))
        t0 = time.perf_counter()
        svg = results_chart(series) + activity_chart(activity)
        print(
            f"two charts rendered in {(time.perf_counter() - t0) * 1000:,.0f} ms "
            f"({len(svg):,} bytes)"
        )
        before = rss_mb()
        t0 = time.perf_counter()
        size = 0
        async for chunk in export_csv(session, campaign_id):
            size += len(chunk)
        elapsed = time.perf_counter() - t0
    print(
        f"CSV export: {count:,} rows, {size / 1e6:.1f} MB in {elapsed:.1f} s "
        f"({count / elapsed:,.0f} rows/s); peak RSS {before:.0f} MB before, {rss_mb():.0f} MB after"
    )
    print(results.explanation())
    assert results.total.recipients == count


async def run(url: str, count: int) -> None:
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={"database.url": url, "database.auto_migrate": True, "capture.enabled": False},
    )
    async with database(settings) as db:
        await measure(db, count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(run(url, args.recipients))


if __name__ == "__main__":
    main()
