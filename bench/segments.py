"""Segment benchmark (not a test): live count and sample on 100,000 customers, and a 10,000-row
CSV import.

    .venv/bin/python -m bench.segments [--customers 100000] [--database-url URL] [--explain]

1. seed: customers bulk-inserted with email identities (a third also on Telegram), tags, tiers,
   attributes, last contact spread over a year, consent granted on 60 % of the emails, and a
   segment of 10,000 imported (static) members;
2. preview: count (one SQL COUNT) and sample (first 20 with identities) for realistic
   definitions (tag + consent + last contact, ...), p50 and p95 over repeated runs;
3. import: 10,000 CSV rows (half known customers, updated; half new) in one transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

from hub.assembly import assemble
from hub.campaigns.customer_import import import_customers
from hub.campaigns.segments import count_of, create_segment, sample_of
from hub.config.settings import load_settings
from hub.core.customer_filters import compile_filter, parse_filter
from hub.core.customer_tags import set_tag_rows
from hub.db.campaign_models import Consent, SegmentMember
from hub.db.models import Customer, Identity
from hub.platform.clock import ManualClock
from hub.platform.database import Database

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
TAGS = ["vip", "beta", "newsletter", "churn-risk", "reseller", "trial", "webinar", "b2b"]
TIERS = ["standard", "standard", "standard", "silver", "gold", "platinum"]
CHUNK = 5000
RUNS = 30
NEWSLETTER = {"field": "tag", "op": "has", "value": "newsletter"}
BETA = {"field": "tag", "op": "has", "value": "beta"}


def definitions(static_segment: int) -> dict[str, dict[str, Any]]:
    return {
        "vip + email consent + contact in 90 days": {
            "all": [
                {"field": "tag", "op": "has", "value": "vip"},
                {"field": "consent", "op": "has", "value": "email"},
                {"field": "last_contact", "op": "after", "value": "-90d"},
            ]
        },
        "newsletter or beta, any consent, not silent a year": {
            "all": [
                {
                    "any": [
                        {"field": "tag", "op": "has", "value": "newsletter"},
                        {"field": "tag", "op": "has", "value": "beta"},
                    ]
                },
                {"field": "consent", "op": "has", "value": "any"},
                {"not": {"field": "last_contact", "op": "before", "value": "-365d"}},
            ]
        },
        "gold/platinum, 50+ seats, on Telegram": {
            "all": [
                {"field": "tier", "op": "in", "value": ["gold", "platinum"]},
                {"field": "attribute.seats", "op": "gte", "value": 50},
                {"field": "identity", "op": "has", "value": "telegram"},
            ]
        },
        "imported segment + email consent": {
            "all": [
                {"field": "segment", "op": "in", "value": [static_segment]},
                {"field": "consent", "op": "has", "value": "email"},
            ]
        },
    }


async def seed(db: Database, customers: int) -> int:
    rng = random.Random(12)
    started = time.perf_counter()
    identity_id = 0
    async with db.writer() as session:
        for start in range(1, customers + 1, CHUNK):
            ids = range(start, min(start + CHUNK, customers + 1))
            rows, identities, consents = [], [], []
            for i in ids:
                rows.append(
                    {
                        "id": i,
                        "name": f"Customer {i}",
                        "name_key": f"customer {i}",
                        "company": f"Company {i % 3000}",
                        "tier": rng.choice(TIERS),
                        "tags": rng.sample(TAGS, rng.randint(0, 3)),
                        "attributes": {"plan": rng.choice(["free", "pro", "team"]),
                                       "seats": rng.randint(1, 200)},
                        "locale": rng.choice(["en", "en", "de", "fr", "pt-BR"]),
                        "timezone": "UTC",
                        "consent": {},
                        "notes": "",
                        "created_at": NOW - timedelta(days=rng.randint(30, 1500)),
                        "last_contact_at": NOW - timedelta(days=rng.randint(0, 500)),
                    }
                )  # fmt: skip
                identity_id += 1
                identities.append(
                    {"id": identity_id, "customer_id": i, "kind": "email",
                     "address": f"c{i}@example.com", "display_name": "", "bouncing": False,
                     "created_at": NOW}
                )  # fmt: skip
                if rng.random() < 0.6:
                    consents.append(
                        {"identity_id": identity_id, "customer_id": i, "kind": "email",
                         "state": "granted", "source": "import", "note": "", "changed_at": NOW}
                    )  # fmt: skip
                if rng.random() < 0.33:
                    identity_id += 1
                    identities.append(
                        {"id": identity_id, "customer_id": i, "kind": "telegram",
                         "address": str(10_000_000 + i), "display_name": "", "bouncing": False,
                         "created_at": NOW}
                    )  # fmt: skip
            await session.execute(insert(Customer), rows)
            await set_tag_rows(session, {row["id"]: row["tags"] for row in rows})
            await session.execute(insert(Identity), identities)
            if consents:
                await session.execute(insert(Consent), consents)
        if db.url.startswith("postgresql"):
            for table in ("customers", "identities"):
                await session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        segment = await create_segment(session, "Imported leads", None, NOW)
        members = rng.sample(range(1, customers + 1), min(10_000, customers))
        for start in range(0, len(members), CHUNK):
            await session.execute(
                insert(SegmentMember),
                [
                    {"segment_id": segment.id, "customer_id": c, "added_at": NOW}
                    for c in members[start : start + CHUNK]
                ],
            )
        await session.commit()
        segment_id = segment.id
    if db.url.startswith("postgresql"):
        async with db.writer() as session:
            await session.execute(text("ANALYZE"))
            await session.commit()
    print(f"seeded {customers:,} customers in {time.perf_counter() - started:.1f} s")
    return segment_id


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def bench_previews(db: Database, static_segment: int, explain: bool) -> None:
    print(f"{'definition':55} {'members':>8} {'count p50':>10} {'count p95':>10} "
          f"{'sample p50':>11} {'sample p95':>11}")  # fmt: skip
    for label, definition in definitions(static_segment).items():
        tree = parse_filter(definition)
        counts: list[float] = []
        samples: list[float] = []
        found = 0
        async with db.reader() as session:
            for _ in range(RUNS):
                started = time.perf_counter()
                found = await count_of(session, tree, NOW)
                counts.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await sample_of(session, tree, NOW)
                samples.append((time.perf_counter() - started) * 1000)
            if explain and db.url.startswith("postgresql"):
                query = (
                    select(text("count(*)"))
                    .select_from(Customer)
                    .where(Customer.merged_into_id.is_(None), compile_filter(tree, NOW))
                )
                compiled = query.compile(
                    dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
                )
                plan = await session.execute(text(f"EXPLAIN ANALYZE {compiled}"))
                print("\n".join(f"    {row[0]}" for row in plan))
        print(
            f"{label:55} {found:8,} {statistics.median(counts):8.1f}ms "
            f"{percentile(counts, 0.95):8.1f}ms {statistics.median(samples):9.1f}ms "
            f"{percentile(samples, 0.95):9.1f}ms"
        )


async def bench_import(db: Database, customers: int) -> None:
    lines = ["name,email,tier,tags,attribute.plan,consent"]
    for i in range(5000):  # known customers: updated
        lines.append(f"Customer {i + 1},c{i + 1}@example.com,gold,imported;vip,team,yes")
    for i in range(5000):  # new customers
        lines.append(f"Lead {i},lead{i}@example.org,standard,imported,free,yes")
    data = ("\n".join(lines) + "\n").encode()
    async with db.writer() as session:
        segment = await create_segment(session, "Bench import", None, NOW)
        started = time.perf_counter()
        result = await import_customers(session, segment.id, data, NOW)
        await session.commit()
        elapsed = time.perf_counter() - started
    print(
        f"import: {result.rows:,} rows ({len(data) // 1024} KB; {result.created:,} new, "
        f"{result.updated:,} updated, {result.consents_recorded:,} consents) "
        f"in {elapsed:.2f} s = {result.rows / elapsed:,.0f} rows/s"
    )


async def run(url: str, customers: int, explain: bool) -> None:
    settings = load_settings(
        Path(__file__).resolve().parent.parent / "config" / "relaydesk.toml",
        environ={},
        overrides={"database.url": url, "database.auto_migrate": True},
    )
    async with assemble(settings, clock=ManualClock(NOW), start_workers=False) as hub:
        static_segment = await seed(hub.db, customers)
        await bench_previews(hub.db, static_segment, explain)
        await bench_import(hub.db, customers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite)")
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL plans")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        print(f"database: {url.split(':')[0]}")
        asyncio.run(run(url, args.customers, args.explain))


if __name__ == "__main__":
    main()
