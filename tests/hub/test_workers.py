"""Several hub processes on one PostgreSQL database, started for real: a message taken in by one
process appears on an inbox served by another, every acknowledgement is mailed once, and when a
process is killed the others finish its work. ``serve --workers`` refuses SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import func, select

from hub.core.staff import add_agent, create_token
from hub.db.models import Message, OutboxItem, Role
from hub.platform.database import open_database
from hub.platform.migrate import upgrade
from tests.conftest import CONFIG, _postgres_url
from tests.support.poll import eventually
from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

SCRIPT = Path(sys.executable).with_name("relaydesk")
PASSWORD = "three processes, one database"
INBOUND_TOKEN = "demo-inbound-token-0123456789"
needs_postgres = pytest.mark.skipif(
    _postgres_url() is None, reason="several processes need PostgreSQL"
)


@pytest.fixture
async def fresh_postgres() -> AsyncIterator[str]:
    """A database of its own on the test server (the processes outlive one test's truncation)."""
    base = _postgres_url()
    assert base is not None
    name = f"relaydesk_workers_{uuid.uuid4().hex[:10]}"
    admin_dsn = base.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        await asyncio.to_thread(upgrade, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class Hubs:
    """``serve`` processes on one database, each on its own port; the first runs the listeners."""

    def __init__(self, url: str, smtp_port: int) -> None:
        self.url = url
        self.smtp_port = smtp_port
        self.processes: list[subprocess.Popen[str]] = []
        self.ports: list[int] = []

    def start(self, count: int) -> None:
        for index in range(count):
            self.processes.append(self._spawn(index, port := free_port()))
            self.ports.append(port)

    def _spawn(self, index: int, port: int) -> subprocess.Popen[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
        env |= {
            "RELAYDESK_CONFIG": str(CONFIG),
            "RELAYDESK_DATABASE_URL": self.url,
            "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
            "RELAYDESK_CAPTURE__ENABLED": "false",
            "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
            "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(self.smtp_port),
            "RELAYDESK_OUTBOX__LEASE_SECONDS": "3",
            "RELAYDESK_OPERATIONS__LISTENERS": "true" if index == 0 else "false",
            "RELAYDESK_OPERATIONS__PROCESS": f"hub-{index + 1}",
        }
        return subprocess.Popen(
            [str(SCRIPT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def base(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    async def healthy(self) -> None:
        async with aiohttp.ClientSession() as http:
            for index, process in enumerate(self.processes):

                async def up(index: int = index, process: subprocess.Popen[str] = process) -> bool:
                    assert process.poll() is None, process.communicate()[1]
                    try:
                        async with http.get(self.base(index) + "/healthz") as response:
                            return response.status == 200
                    except aiohttp.ClientConnectionError:
                        return False

                await eventually(up, timeout=120, interval=0.2, what=f"hub {index + 1} up")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()


@pytest.fixture
def hubs(fresh_postgres: str, smtp_sink: SmtpSink) -> Iterator[Hubs]:
    running = Hubs(fresh_postgres, smtp_sink.port)
    yield running
    running.stop()


async def _supervisor(url: str) -> None:
    db = open_database(url)
    try:
        async with db.writer() as session:
            now = datetime.now(UTC)
            agent = await add_agent(
                session,
                email="boss@example.com",
                name="Boss",
                role=Role.SUPERVISOR,
                now=now,
                password=PASSWORD,
            )
            await create_token(session, agent, now)
            await session.commit()
    finally:
        await db.dispose()


async def _sign_in(http: aiohttp.ClientSession) -> None:
    page = await (await http.get("/ui/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    response = await http.post(
        "/ui/login",
        data={"csrf_token": token.group(1), "email": "boss@example.com", "password": PASSWORD},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()


async def _send(base: str, n: int) -> int:
    async with aiohttp.ClientSession() as http:
        response = await http.post(
            f"{base}/api/v1/inbound/api",
            json={
                "external_id": f"mp-{n}",
                "from": {"address": f"customer{n}@example.com", "name": f"Customer {n}"},
                "text": f"Message {n}: my parcel is late",
            },
            headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
        )
        body = await response.json()
        assert response.status == 201, body
        return int(body["conversation_id"])


async def _stored(url: str) -> dict[str, int]:
    db = open_database(url)
    try:
        async with db.reader() as session:
            rows = await session.execute(
                select(Message.external_id, func.count())
                .where(Message.external_id.like("mp-%"))
                .group_by(Message.external_id)
            )
            return {str(external_id): int(count) for external_id, count in rows}
    finally:
        await db.dispose()


@needs_postgres
async def test_three_processes_share_live_events_and_the_outbox_and_survive_a_kill(
    hubs: Hubs, smtp_sink: SmtpSink
) -> None:
    await _supervisor(hubs.url)
    hubs.start(3)
    await hubs.healthy()

    # An inbox open on process B sees what process A takes in.
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from 127.0.0.1
    async with aiohttp.ClientSession(base_url=hubs.base(1), cookie_jar=jar) as inbox:
        await _sign_in(inbox)
        stream = await inbox.get("/ui/events", headers={"Accept": "text/event-stream"})
        assert stream.status == 200
        seen: set[int] = set()

        async def follow() -> None:
            async for raw in stream.content:
                line = raw.decode().strip()
                if line.startswith("data:"):
                    data = json.loads(line.removeprefix("data:"))
                    if isinstance(data.get("conversation_id"), int):
                        seen.add(data["conversation_id"])

        reader = asyncio.create_task(follow())
        try:
            for n in range(5):
                conversation = await _send(hubs.base(0), n)

                async def arrived(conversation: int = conversation) -> bool:
                    return conversation in seen

                await eventually(arrived, timeout=10, what="the event on process B")
        finally:
            reader.cancel()
            stream.close()

    # Messages through all three, one killed midway: every acknowledged message stored once,
    # every acknowledgement mailed, none twice except one in flight at the kill.
    sent = 5
    for n in range(5, 35):
        await _send(hubs.base(n % 3), n)
        sent += 1
        if n == 20:
            hubs.processes[2].send_signal(signal.SIGKILL)
            hubs.processes[2].wait()
            hubs.ports[2] = hubs.ports[1]  # its traffic moves on, as a proxy would send it
    stored = await _stored(hubs.url)
    assert len(stored) == sent and set(stored.values()) == {1}

    def mailed() -> dict[str, int]:
        counts: dict[str, int] = {}
        for received in smtp_sink.received:
            message_id = str(received.message["Message-ID"])
            counts[message_id] = counts.get(message_id, 0) + 1
        return counts

    async def all_mailed() -> bool:
        return len(mailed()) >= sent

    await eventually(all_mailed, timeout=60, interval=0.2, what="every acknowledgement")
    counts = mailed()
    assert len(counts) == sent
    assert sum(counts.values()) - len(counts) <= 8  # at most the outbox's in-flight sends


class RelayGate:
    """A TCP gate in front of the SMTP sink: while shut it holds every connection (the sender
    waits for the greeting, mid-send); once opened it passes them through. A connection whose
    sender died while held is dropped, never passed on."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.opened = asyncio.Event()
        self.held = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.held += 1
        gone = asyncio.ensure_future(reader.read(1))  # SMTP clients speak only after the greeting
        opened = asyncio.ensure_future(self.opened.wait())
        await asyncio.wait({gone, opened}, return_when=asyncio.FIRST_COMPLETED)
        opened.cancel()
        if gone.done():  # the sender was killed while held
            writer.close()
            return
        gone.cancel()
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    target.write(data)
                    await target.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                target.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def relay_gate(smtp_sink: SmtpSink) -> AsyncIterator[RelayGate]:
    gate = RelayGate(smtp_sink.port)
    await gate.start()
    yield gate
    await gate.stop()


async def _claimed(url: str) -> tuple[int, int]:
    """(outbox items, of which claimed under a lease)."""
    db = open_database(url)
    try:
        async with db.reader() as session:
            total = await session.scalar(select(func.count()).select_from(OutboxItem))
            claimed = await session.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.locked_by.is_not(None), OutboxItem.state == "pending")
            )
            return int(total or 0), int(claimed or 0)
    finally:
        await db.dispose()


@needs_postgres
async def test_a_process_killed_holding_claimed_mail_has_it_sent_by_the_others_once(
    fresh_postgres: str, relay_gate: RelayGate, smtp_sink: SmtpSink
) -> None:
    await _supervisor(fresh_postgres)
    hubs = Hubs(fresh_postgres, relay_gate.port)
    try:
        hubs.start(3)
        await hubs.healthy()
        # Only the victim runs: the others are paused, so it claims the acknowledgements (a
        # batch at a time), and the relay holds its sends mid-way.
        for index in (0, 2):
            hubs.processes[index].send_signal(signal.SIGSTOP)
        for n in range(10):
            await _send(hubs.base(1), n)

        async def claimed_and_sending() -> bool:
            total, claimed = await _claimed(fresh_postgres)
            return total == 10 and claimed > 0 and relay_gate.held > 0

        await eventually(claimed_and_sending, timeout=20, interval=0.1, what="the victim's claims")
        hubs.processes[1].send_signal(signal.SIGKILL)
        hubs.processes[1].wait()
        killed = asyncio.get_running_loop().time()
        relay_gate.opened.set()
        for index in (0, 2):
            hubs.processes[index].send_signal(signal.SIGCONT)

        async def all_mailed() -> bool:
            return len(smtp_sink.received) >= 10

        await eventually(all_mailed, timeout=60, interval=0.1, what="the others' sends")
        took = asyncio.get_running_loop().time() - killed
        await asyncio.sleep(4)  # a lease more: nothing else is sent
        ids = [str(received.message["Message-ID"]) for received in smtp_sink.received]
        assert len(ids) == 10 and len(set(ids)) == 10  # nothing lost, nothing twice
        assert took < 3 + 10  # the lease (3 s), plus a poll and a loaded machine's slack
        assert await _claimed(fresh_postgres) == (10, 0)
    finally:
        for index in (0, 2):
            if hubs.processes[index].poll() is None:
                hubs.processes[index].send_signal(signal.SIGCONT)
        hubs.stop()


def test_workers_refuse_sqlite_with_the_setting_to_change(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELAYDESK_")}
    env |= {
        "RELAYDESK_CONFIG": str(CONFIG),
        "RELAYDESK_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'one.db'}",
    }
    done = subprocess.run(
        [str(SCRIPT), "serve", "--workers", "3", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "--workers needs PostgreSQL" in done.stderr and "database.url" in done.stderr
