"""Benchmark: email ingest rate and outbound send rate, on this machine.

    .venv/bin/python bench/email.py [--messages 1000] [--concurrency 32] [--sends 1000]
        [--database-url postgresql://user@host/empty_db]  (ingest on PostgreSQL; its schema is
                                                          dropped and recreated first)
        [--via inbox|smtp] [--parse-only] [--statements N]

Ingest: raw RFC 822 messages (a mix of replies into existing conversations and new ones, plain
and multipart/HTML) go through EmailInbox exactly as SMTP/IMAP deliver them (parse, reply
split, sanitize, threading, group commit on a temporary SQLite database); reported as
messages/s. Besides the wall-clock rate (noisy on a loaded machine) it prints figures that do
not depend on load: CPU milliseconds of this process per mail, split into parse (the channel's
RFC 822 parsing), threading (the email hook that finds the conversation), store (the email hook
that adds the raw mail, attachments and participants) and the rest (the shared pipeline, the
flushes and commits, reports); and SQL statements per mail. On PostgreSQL statements yield to
the event loop, so other mails' parsing runs inside the hooks' timings: the split is printed
for SQLite only, where no statement yields.

``--via smtp`` delivers the same mails through the inbound SMTP server (aiosmtpd) instead,
from ``--concurrency`` SMTP sessions of a separate sender process (its CPU is not counted): the
250 of each mail follows its commit, as in production.

Outbound: the email channel sends to a local aiosmtpd sink with its pooled, reused
connections; reported as messages/s and SMTP sessions opened.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's email package: keep its folder off the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import pickle  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from dataclasses import dataclass, field, replace  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiosmtpd.smtp import SMTP  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bench.ingest import reset_postgres  # noqa: E402
from channels.base import (  # noqa: E402
    Channel,
    IdentityKind,
    InboundMessage,
    InboundRequest,
    OutboundMessage,
    Party,
)
from channels.email.adapter import EmailChannel, EmailChannelConfig  # noqa: E402
from hub.assembly import assemble  # noqa: E402
from hub.config.settings import load_settings  # noqa: E402
from hub.email.directory import MailboxDirectory  # noqa: E402
from hub.email.inbox import EmailInbox  # noqa: E402
from hub.email.receiver import SmtpReceiver  # noqa: E402

HTML = "<div><p>Hello,</p><p>my order {n} has not arrived.</p><blockquote>old</blockquote></div>"


def raw_mail(number: int, customers: int) -> bytes:
    customer = number % customers
    reply = number >= customers
    lines = [
        f"From: Customer {customer} <c{customer}@example.com>",
        "To: support@relaydesk.local",
        f"Subject: {'Re: ' if reply else ''}Order {customer}",
        "Date: Mon, 05 Jan 2026 09:00:00 +0000",
        f"Message-ID: <bench{number}@example.com>",
        "MIME-Version: 1.0",
    ]
    if reply:
        lines.append(f"In-Reply-To: <bench{customer}@example.com>")
    if number % 2:
        lines.append('Content-Type: multipart/alternative; boundary="b"')
        body = (
            f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello, order {number}.\r\n\r\n"
            "On Mon, Jan 5, 2026 Support wrote:\r\n> old\r\n"
            f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{HTML.format(n=number)}\r\n"
            "--b--\r\n"
        )
    else:
        lines.append("Content-Type: text/plain; charset=utf-8")
        body = f"Hello, order {number}.\r\n\r\n-- \r\nCustomer {customer}\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


@dataclass
class Phases:
    """CPU seconds spent in the email-specific steps, and SQL statements run."""

    parse: float = 0.0
    threading: float = 0.0
    store: float = 0.0
    statements: int = 0
    by_statement: Counter[str] = field(default_factory=Counter)

    def count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements += 1
        self.by_statement[" ".join(statement.split())[:110]] += 1


class _TimedChannel:
    """The email channel with its parse timed (parsing is synchronous: nothing else runs)."""

    def __init__(self, channel: Channel, phases: Phases) -> None:
        self.channel = channel
        self.phases = phases

    def parse(self, request: InboundRequest) -> list[InboundMessage]:
        started = time.process_time()
        try:
            return self.channel.parse(request)
        finally:
            self.phases.parse += time.process_time() - started

    def __getattr__(self, name: str) -> Any:
        return getattr(self.channel, name)


def _timed(call: Callable[..., Awaitable[Any]], phases: Phases, phase: str) -> Any:
    async def timed(*args: Any) -> Any:
        started = time.process_time()
        try:
            return await call(*args)
        finally:
            setattr(phases, phase, getattr(phases, phase) + time.process_time() - started)

    return timed


@dataclass(frozen=True)
class IngestFigures:
    rate: float
    cpu_ms: float
    phases: Phases
    messages: int


async def bench_ingest(
    messages: int, concurrency: int, url: str | None, via: str = "inbox"
) -> IngestFigures:
    directory = Path(tempfile.mkdtemp(prefix="relaydesk-bench-email-"))
    url = url or f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    settings = load_settings(
        ROOT / "config" / "relaydesk.toml",
        environ={},
        overrides={
            "database.url": url,
            "database.auto_migrate": True,
            "capture.enabled": False,
            "ingest.batch_size": 64,
        },
    )
    async with assemble(settings, start_workers=False) as hub:
        await hub.ingestor.worker.start()  # group commit, and nothing else of the hub
        phases = Phases()
        inbox = hub.email.inbox
        inbox.channels = {n: _TimedChannel(c, phases) for n, c in inbox.channels.items()}
        pipeline = hub.ingestor.pipeline
        pipeline.hooks = replace(
            pipeline.hooks,
            channels=tuple(
                replace(
                    hooks,
                    find_conversation=_timed(hooks.find_conversation, phases, "threading"),
                    record=_timed(hooks.record, phases, "store"),
                )
                for hooks in pipeline.hooks.channels
            ),
        )
        for engine in hub.db.engines:
            event.listen(engine.sync_engine, "before_cursor_execute", phases.count)
        try:
            if via == "smtp":
                receiver = SmtpReceiver(
                    "127.0.0.1",
                    0,
                    MailboxDirectory.build(settings.channels),
                    inbox,
                    hub.email.states,
                    ("mail",),
                    {"mail": 10**8},
                    hostname="relaydesk.local",
                )
                await receiver.start()
                try:
                    rate, cpu = await _ingest_smtp(receiver.port, messages, concurrency)
                finally:
                    await receiver.stop()
            else:
                rate, cpu = await _ingest(inbox, messages, concurrency)
        finally:
            await hub.ingestor.worker.stop()
        return IngestFigures(rate, cpu * 1000 / messages, phases, messages)


async def _ingest(inbox: EmailInbox, messages: int, concurrency: int) -> tuple[float, float]:
    customers = max(1, messages // 4)
    mails = [raw_mail(n, customers) for n in range(messages)]
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for raw in mails:
        queue.put_nowait(raw)

    async def worker() -> None:
        while not queue.empty():
            await inbox.deliver("mail", queue.get_nowait())

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return messages / elapsed, time.process_time() - cpu


# The SMTP clients run in a process of their own, so the hub's CPU figures leave them out.
_SENDER = """
import pickle, smtplib, sys
from concurrent.futures import ThreadPoolExecutor
port, path, senders = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with open(path, "rb") as file:
    mails = pickle.load(file)
def send(share):
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for raw in share:
            smtp.sendmail("bench@example.com", ["support@relaydesk.local"], raw)
with ThreadPoolExecutor(senders) as pool:
    list(pool.map(send, [mails[i::senders] for i in range(senders)]))
"""


async def _ingest_smtp(port: int, messages: int, concurrency: int) -> tuple[float, float]:
    """Every mail through the inbound SMTP server, from ``concurrency`` SMTP sessions."""
    customers = max(1, messages // 4)
    with tempfile.NamedTemporaryFile(suffix=".pickle") as file:
        pickle.dump([raw_mail(n, customers) for n in range(messages)], file)
        file.flush()
        cpu = time.process_time()
        started = time.perf_counter()
        sender = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _SENDER, str(port), file.name, str(concurrency)
        )
        if await sender.wait() != 0:
            raise SystemExit("the SMTP sender failed")
        elapsed = time.perf_counter() - started
    return messages / elapsed, time.process_time() - cpu


def print_ingest(figures: IngestFigures, sqlite: bool, top: int) -> None:
    n = figures.messages
    phases = figures.phases
    print(
        f"ingest: {n} raw messages, {figures.rate:.0f} messages/s; "
        f"CPU {figures.cpu_ms:.2f} ms/mail; {phases.statements / n:.1f} SQL statements/mail"
    )
    if sqlite:
        parse, threading, store = (
            1000 * v / n for v in (phases.parse, phases.threading, phases.store)
        )
        rest = figures.cpu_ms - parse - threading - store
        print(
            f"        CPU ms/mail: parse {parse:.2f}, threading {threading:.2f}, "
            f"store {store:.2f}, rest {rest:.2f}"
        )
    else:
        print(f"        CPU ms/mail: parse {1000 * phases.parse / n:.2f}")
    for statement, times in phases.by_statement.most_common(top):
        print(f"        {times / n:6.2f}/mail  {statement}")


def bench_parse(messages: int, rounds: int = 5) -> float:
    """CPU milliseconds per mail of the channel's parse alone (best of ``rounds``)."""
    channel = EmailChannel(
        "mail", EmailChannelConfig(kind="email", address="support@relaydesk.local")
    )
    customers = max(1, messages // 4)
    requests = [
        InboundRequest(
            body=raw_mail(n, customers), headers={"X-Envelope-To": "support@relaydesk.local"}
        )
        for n in range(messages)
    ]
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for request in requests:
            channel.parse(request)
        best = min(best, time.process_time() - started)
    return best * 1000 / messages


class Sink:
    def __init__(self) -> None:
        self.received = 0
        self.sessions = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        return "250 OK"


async def bench_send(sends: int, concurrency: int) -> tuple[float, int]:
    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    channel = EmailChannel(
        "mail",
        EmailChannelConfig(kind="email", address="support@relaydesk.local", smtp_port=port),
    )
    semaphore = asyncio.Semaphore(concurrency)

    async def send(number: int) -> None:
        async with semaphore:
            result = await channel.send(
                OutboundMessage(
                    message_id=number,
                    channel="mail",
                    recipient=Party(IdentityKind.EMAIL, f"c{number}@example.com"),
                    text=f"Reply {number}",
                    html=f"<p>Reply {number}</p>",
                    subject="Re: Order",
                    external_id=f"<rd.0123456789abcdef.{number:08x}@relaydesk.local>",
                )
            )
            assert result.ok, result.error

    started = time.perf_counter()
    await asyncio.gather(*(send(n) for n in range(sends)))
    elapsed = time.perf_counter() - started
    await channel.stop()
    server.close()
    await server.wait_closed()
    assert sink.received == sends
    return sends / elapsed, sink.sessions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--database-url", help="ingest on this (emptied) PostgreSQL database")
    parser.add_argument("--statements", type=int, default=0, help="list the N most run")
    parser.add_argument(
        "--via",
        choices=("inbox", "smtp"),
        default="inbox",
        help="deliver straight to the inbox, or through the inbound SMTP server",
    )
    parser.add_argument(
        "--parse-only", action="store_true", help="time the parse alone (no database)"
    )
    args = parser.parse_args()
    if args.parse_only:
        ms = bench_parse(args.messages)
        print(f"parse:  {args.messages} raw messages, CPU {ms:.3f} ms/mail (best of 5)")
        return
    url = reset_postgres(args.database_url) if args.database_url else None
    figures = asyncio.run(bench_ingest(args.messages, args.concurrency, url, args.via))
    print_ingest(figures, url is None, args.statements)
    if args.sends:
        send_rate, sessions = asyncio.run(bench_send(args.sends, args.concurrency))
        print(
            f"send:   {args.sends} messages, {send_rate:.0f} messages/s, {sessions} SMTP sessions"
        )


if __name__ == "__main__":
    main()
