"""Benchmark: one email campaign to many recipients, on 127.0.0.1 only.

    .venv/bin/python bench/campaign.py [--recipients 100000] [--database URL]

Seeds N customers (each with an email identity, consent granted, in the segment) into a fresh
SQLite file (or the empty PostgreSQL database given), then measures:

* snapshot + queue: ``send_now`` (the set-based ``INSERT … SELECT`` and the channel choice)
  committed; and rendering every recipient's email (the templates, the unsubscribe link and
  headers) as the sender does, timed on its own. Target: together at most 10 s for 100,000.
* delivery: the hub (as ``serve`` assembles it) sends the campaign through the email channel's
  pooled SMTP connections to a local aiosmtpd sink running in another process, until the
  campaign is finished: emails/s (target at least 500). The sink's count is checked against
  the recipients marked sent (each exactly once).
* peak RSS of this process (resource.getrusage; the sink's process is not counted). Target:
  at most 300 MB.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where a module of the same name as a
# standard one (bench/email.py) would shadow it: import from the project root instead.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, insert, select, text  # noqa: E402

from hub.assembly import assemble  # noqa: E402
from hub.campaigns import drafting, send_control, views  # noqa: E402
from hub.campaigns.compose import Person, compose  # noqa: E402
from hub.config.settings import Settings, load_settings  # noqa: E402
from hub.core.authz import Principal  # noqa: E402
from hub.core.customer_tags import set_tag_rows  # noqa: E402
from hub.core.staff import add_agent  # noqa: E402
from hub.db.campaign_models import (  # noqa: E402
    CampaignRecipient,
    Consent,
    ConsentState,
    RecipientState,
    Segment,
)
from hub.db.models import Customer, Identity, Role  # noqa: E402
from hub.platform.migrate import upgrade  # noqa: E402

CONFIG = ROOT / "config" / "relaydesk.toml"
CHUNK = 5000
CONTENT = {
    "email": {
        "subject": "Our winter sale, {{ customer.first_name | default('friend') }}",
        "html": (
            "<html><body><h1>Winter sale</h1><p>Hi {{ customer.first_name | default('there') }},"
            "</p><p>Everything for {{ customer.company | default('your team') }} is 20% off "
            "this week.</p></body></html>"
        ),
        "text": "Hi {{ customer.first_name | default('there') }}, everything is **20% off**.",
    }
}


def _sink(port: Any, count: Any, ready: Any, cpu: Any) -> None:
    """The SMTP sink process: aiosmtpd, counting what it accepts (and its own CPU time)."""
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            cpu.value = _cpu()
            return "250 OK"

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Handler()), "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.Event().wait()

    asyncio.run(serve())


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def settings_for(url: str, smtp_port: int) -> Settings:
    return load_settings(
        CONFIG,
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": False,
            "capture.enabled": False,
            "channels.mail.smtp_port": smtp_port,
            "channels.mail.smtp_connections": 8,
            "channels.mail.inbound_smtp": "127.0.0.1:0",
            "campaigns.poll_seconds": 0.05,
            "campaigns.quiet_hours": False,
            "campaigns.batch_size": 2000,
            "campaigns.throttles.email.per_second": 5000,
            "campaigns.throttles.email.concurrency": 8,
        },
    )


async def seed(settings: Settings, recipients: int) -> tuple[int, int]:
    """N customers with a granted email identity, the segment and a marketer; returns the
    segment's and the marketer's ids."""
    now = datetime.now(UTC)
    async with assemble(settings, start_workers=False) as hub, hub.db.writer() as session:
        for start in range(0, recipients, CHUNK):
            numbers = range(start, min(start + CHUNK, recipients))
            await session.execute(
                insert(Customer),
                [
                    {
                        "id": n + 1,
                        "name": f"Reader {n}",
                        "name_key": f"reader {n}",
                        "company": "Acme" if n % 3 else "",
                        "tags": ["newsletter"],
                        "attributes": {},
                        "consent": {},
                        "created_at": now,
                    }
                    for n in numbers
                ],
            )
            await session.execute(
                insert(Identity),
                [
                    {
                        "id": n + 1,
                        "customer_id": n + 1,
                        "kind": "email",
                        "address": f"reader{n}@example.com",
                        "display_name": f"Reader {n}",
                        "created_at": now,
                    }
                    for n in numbers
                ],
            )
            await set_tag_rows(session, {n + 1: ["newsletter"] for n in numbers})
            await session.execute(
                insert(Consent),
                [
                    {
                        "identity_id": n + 1,
                        "customer_id": n + 1,
                        "kind": "email",
                        "state": ConsentState.GRANTED.value,
                        "source": "import",
                        "note": "",
                        "changed_at": now,
                    }
                    for n in numbers
                ],
            )
        segment = Segment(
            name="Newsletter",
            definition={"field": "tag", "op": "has", "value": "newsletter"},
            created_at=now,
            updated_at=now,
        )
        session.add(segment)
        await session.flush()
        segment_id = segment.id
        agent = await add_agent(
            session, email="mia@example.com", name="Mia", role=Role.MARKETER, now=now
        )
        if not hub.db.is_sqlite:
            for table in ("customers", "identities"):
                await session.execute(
                    text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
                )
        await session.commit()
        if not hub.db.is_sqlite:  # fresh tables: give the planner statistics, as production has
            await session.execute(text("ANALYZE"))
            await session.commit()
        return segment_id, agent.id


async def run(recipients: int, url: str) -> dict[str, float]:
    port, count = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    ready, sink_cpu = multiprocessing.Event(), multiprocessing.Value("d", 0.0)
    sink = multiprocessing.Process(target=_sink, args=(port, count, ready, sink_cpu), daemon=True)
    sink.start()
    ready.wait(10)
    settings = settings_for(url, port.value)
    figures: dict[str, float] = {}
    try:
        started = time.perf_counter()
        segment_id, agent_id = await seed(settings, recipients)
        figures["seed_s"] = time.perf_counter() - started
        marketer = Principal(agent_id=agent_id, role=Role.MARKETER, team_ids=frozenset())
        async with assemble(settings) as hub:
            campaign = await _snapshot(hub, marketer, segment_id, figures)
            figures["render_s"] = _render_all(settings, recipients)
            started, cpu = time.perf_counter(), _cpu()
            hub.campaigns.wake()
            while True:
                await asyncio.sleep(0.25)
                async with hub.db.reader() as session:
                    view = await drafting.get_campaign(session, marketer, campaign)
                if view.state == "finished":
                    break
            elapsed, cpu = time.perf_counter() - started, _cpu() - cpu
            async with hub.db.reader() as session:
                sent = await session.scalar(
                    select(func.count())
                    .select_from(CampaignRecipient)
                    .where(CampaignRecipient.state == RecipientState.SENT.value)
                )
        figures["deliver_s"] = elapsed
        figures["sent"] = float(sent or 0)
        figures["sink_received"] = float(count.value)
        figures["emails_per_s"] = (sent or 0) / elapsed
        figures["cpu_ms_per_email"] = 1000 * cpu / max(1, sent or 0)
        figures["sink_cpu_ms_per_email"] = 1000 * sink_cpu.value / max(1, count.value)
    finally:
        sink.kill()
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


async def _snapshot(
    hub: Any, marketer: Principal, segment_id: int, figures: dict[str, float]
) -> int:
    """Create the campaign and time ``send_now`` (snapshot + queue) while the sender is held
    (the campaign is paused in the same transaction, then resumed, so delivery is timed
    apart)."""
    now = hub.clock.now()
    async with hub.db.writer() as session:
        draft = views.CampaignDraft("Winter sale", segment_id, CONTENT)
        campaign = (await drafting.create_campaign(session, marketer, draft, now)).id
        await session.commit()
    started = time.perf_counter()
    async with hub.db.writer() as session:
        await send_control.send_now(session, marketer, hub.campaigns.context, campaign, now)
        await send_control.pause(session, marketer, campaign, now)
        await session.commit()
    figures["snapshot_queue_s"] = time.perf_counter() - started
    async with hub.db.writer() as session:
        await send_control.resume(session, marketer, campaign, now)
        await session.commit()
    return int(campaign)


def _render_all(settings: Settings, recipients: int) -> float:
    """Render every recipient's email as the sender does (templates, links, headers)."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    for n in range(recipients):
        person = Person(f"Reader {n}", "Acme" if n % 3 else "", "standard", "en", "UTC", {})
        compose(
            settings,
            CONTENT,
            person,
            name="Winter sale",
            campaign_id=1,
            recipient_id=n + 1,
            channel_kind="email",
            address=f"reader{n}@example.com",
            now=now,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--database", help="an empty PostgreSQL database (default: temp SQLite)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite+aiosqlite:///{folder}/campaign.db"
        if url.startswith("postgresql://"):
            url = "postgresql+asyncpg://" + url.removeprefix("postgresql://")
        upgrade(url)
        figures = asyncio.run(run(args.recipients, url))
    n = args.recipients
    ready = figures["snapshot_queue_s"] + figures["render_s"]
    print(f"campaign benchmark: {n} recipients, {url.split(':')[0]}")
    print(f"  seed (not timed against a target):   {figures['seed_s']:8.2f} s")
    print(f"  snapshot + queue (send_now):         {figures['snapshot_queue_s']:8.2f} s")
    print(f"  render every email:                  {figures['render_s']:8.2f} s")
    print(f"  snapshot + render + queue:           {ready:8.2f} s   (target <= 10 s)")
    print(
        f"  delivery to the aiosmtpd sink:       {figures['deliver_s']:8.2f} s, "
        f"{figures['emails_per_s']:.0f} emails/s   (target >= 500)"
    )
    print(
        f"  CPU per email: hub {figures['cpu_ms_per_email']:.2f} ms, "
        f"sink {figures['sink_cpu_ms_per_email']:.2f} ms "
        f"(one free core each: {1000 / figures['cpu_ms_per_email']:.0f} emails/s)"
    )
    received = f"{figures['sent']:.0f} / {figures['sink_received']:.0f}"
    print(f"  sent / received by the sink:         {received}")
    print(
        f"  peak RSS:                            {figures['peak_rss_mb']:8.1f} MB   (target <= 300)"
    )


if __name__ == "__main__":
    main()
