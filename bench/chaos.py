"""Chaos, longer: the scenarios of tests/hub/platform/test_chaos.py with more load, more faults
and longer outages, on 127.0.0.1 only. Prints one table.

    .venv/bin/python -m bench.chaos [--messages 2000] [--customers 200] [--concurrency 32]
        [--faults 3] [--down-seconds 10] [--lease-seconds 30] [--only kill-sqlite,...]

Scenarios: ``kill-sqlite`` and ``kill-postgresql`` (``relaydesk serve`` killed with SIGKILL
``--faults`` times under load and started again at once), ``relay-down`` (the SMTP relay refuses
connections for ``--down-seconds`` while acknowledgements are queued), ``pg-restart``
(PostgreSQL stopped for ``--down-seconds`` and started again ``--faults`` times under the
serving hub, which is not restarted). PostgreSQL runs in a throwaway cluster of its own
(initdb + pg_ctl on a free port); those scenarios are left out when its binaries are absent.

Columns: acked (messages answered 2xx; every one is posted until it is), lost (acknowledged
but not stored), dup (stored twice), delayed (acknowledged only on a retry), 5xx (answers
>= 500 the clients saw: 503 while the database is down), mails (distinct mails at the relay /
queued), retried (mails sent on a later attempt), twice (extra copies at the relay: only mails
in flight at a kill may go twice), recover s (kill: to the first 2xx after the kill, i.e. the
restart; pg-restart: from PostgreSQL back to the first 2xx; relay-down: from the relay back to
the last queued mail sent), took s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.platform.migrate import upgrade  # noqa: E402
from tests.support import pg_cluster  # noqa: E402
from tests.support.chaos import (  # noqa: E402
    Scale,
    Tally,
    kill_during_ingest,
    postgres_restart,
    relay_down,
    table,
)

SCENARIOS = ("kill-sqlite", "kill-postgresql", "relay-down", "pg-restart")


def _sqlite(workdir: Path, template: Path, name: str) -> str:
    target = workdir / f"{name}.db"
    shutil.copy(template, target)
    return f"sqlite+aiosqlite:///{target}"


async def _run(name: str, scale: Scale, workdir: Path, template: Path) -> Tally | None:
    folder = workdir / name
    folder.mkdir()
    if name == "kill-sqlite":
        return await kill_during_ingest(name, _sqlite(workdir, template, name), folder, scale)
    if name == "relay-down":
        return await relay_down(name, _sqlite(workdir, template, name), folder, scale)
    if not pg_cluster.available():
        print(f"{name}: skipped, no PostgreSQL server binaries in {pg_cluster.BIN}")
        return None
    cluster = pg_cluster.Cluster()
    try:
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(upgrade, cluster.url)
        if name == "kill-postgresql":
            return await kill_during_ingest(name, cluster.url, folder, scale)
        return await postgres_restart(name, cluster, folder, scale)
    finally:
        cluster.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--faults", type=int, default=3)
    parser.add_argument("--down-seconds", type=float, default=10.0)
    parser.add_argument("--lease-seconds", type=float, default=30.0)
    parser.add_argument("--only", help="comma-separated: " + ", ".join(SCENARIOS))
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else list(SCENARIOS)
    scale = Scale(
        messages=args.messages,
        customers=args.customers,
        concurrency=args.concurrency,
        faults=args.faults,
        down_seconds=args.down_seconds,
        hub_env={
            "outbox__lease_seconds": str(args.lease_seconds),
            "outbox__base_delay_seconds": "1",
            "outbox__max_delay_seconds": "5",
            "outbox__max_attempts": "100",
        },
    )
    tallies: list[Tally] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        template = workdir / "template.db"
        upgrade(f"sqlite+aiosqlite:///{template}")
        for name in chosen:
            tally = asyncio.run(_run(name, scale, workdir, template))
            if tally is not None:
                tallies.append(tally)
                print(table([tally]).splitlines()[1], flush=True)
    print(
        f"\n{args.messages} messages from {args.customers} customers, {args.concurrency} "
        f"concurrent clients, {args.faults} fault(s) per kill/restart scenario, outages of "
        f"{args.down_seconds:g} s, outbox lease {args.lease_seconds:g} s"
    )
    print(table(tallies))
    for tally in tallies:
        if tally.slow_stop or tally.hub_exited or tally.jobs_overdue:
            print(
                f"{tally.scenario}: slow stop={tally.slow_stop} hub exited={tally.hub_exited} "
                f"jobs overdue={tally.jobs_overdue}"
            )


if __name__ == "__main__":
    main()
