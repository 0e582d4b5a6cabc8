"""The moving parts of the chaos scenarios (tests/support/chaos.py): ``relaydesk serve`` in a
child process that can be killed and started again on its port, an SMTP relay that can be taken
down and brought back on its port, and providers posting messages until each is answered 2xx."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.ports import free_port
from tests.support.smtp import SmtpSink

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "demo-inbound-token-0123456789"  # the API channel's token in config/relaydesk.toml
RETRY_PAUSE = 0.1  # a client's pause before sending a refused message again


class Relay(SmtpSink):
    """The SMTP relay, on one port that stays its own while it is taken down and brought up."""

    async def start(self) -> None:
        if self.port == 0:
            self.port = free_port()
        loop = asyncio.get_running_loop()
        from aiosmtpd.smtp import SMTP

        self._server = await loop.create_server(
            lambda: SMTP(self), self.host, self.port, reuse_address=True
        )

    async def stop(self) -> None:
        await super().stop()
        self._server = None


class HubProcess:
    """``relaydesk serve`` in a child process; killed, started again, on the same port."""

    def __init__(self, database_url: str, smtp_port: int, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.log = workdir / "serve.log"
        self.env = {
            **os.environ,
            "RELAYDESK_DATABASE_URL": database_url,
            "RELAYDESK_DATABASE__AUTO_MIGRATE": "false",
            "RELAYDESK_CAPTURE__ENABLED": "false",
            "RELAYDESK_CHANNELS__MAIL__SMTP_PORT": str(smtp_port),
            "RELAYDESK_CHANNELS__MAIL__INBOUND_SMTP": "127.0.0.1:0",
            **{f"RELAYDESK_{key.upper()}": value for key, value in env.items()},
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=str(ROOT),
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    async def stop(self, grace: float = 10.0) -> bool:
        """SIGTERM; SIGKILL after ``grace`` seconds. Whether it stopped within the grace. The
        wait leaves the event loop free: the hub says QUIT to the relay running on it."""
        if self.process is None or self.process.poll() is not None:
            return True
        self.process.terminate()
        try:
            await asyncio.to_thread(self.process.wait, grace)
        except subprocess.TimeoutExpired:
            self.kill()
            return False
        return True

    async def wait_ready(self, timeout: float = 60.0) -> None:
        """Until /readyz answers 200 (the database answers)."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.tail()
                try:
                    async with session.get(f"{self.base}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"the hub did not become ready: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Load:
    """Providers posting ``count`` messages from ``customers`` customers, ``concurrency`` at a
    time; each message is posted again after a refusal (no server, 503) until it is answered
    2xx. ``acked`` maps external id to whether its first attempt was the one answered."""

    def __init__(self, base: str, tag: str, count: int, customers: int, concurrency: int):
        self.base, self.tag, self.count = base, tag, count
        self.customers, self.concurrency = customers, concurrency
        self.acked: dict[str, bool] = {}
        self.answers: Counter[int] = Counter()
        self.refused = 0
        self.last_ack = 0.0  # monotonic time of the latest 2xx
        self.slowest = 0.0  # the longest one attempt waited for its answer, in seconds
        self._next = iter(range(count))

    def body(self, n: int) -> dict[str, Any]:
        who = n % self.customers
        return {
            "external_id": f"{self.tag}-{n}",
            "from": {"address": f"customer{who}@example.com", "name": f"Customer {who}"},
            "text": f"Message {n}: my order has not arrived yet.",
        }

    async def _post(self, session: aiohttp.ClientSession, n: int, deadline: float) -> None:
        url = f"{self.base}/api/v1/inbound/api"
        first = True
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                async with session.post(
                    url, json=self.body(n), headers={"Authorization": f"Bearer {TOKEN}"}
                ) as response:
                    await response.read()
                    self.answers[response.status] += 1
                    if response.status in (200, 201):
                        self.acked[f"{self.tag}-{n}"] = first
                        self.last_ack = time.monotonic()
                        return
            except (aiohttp.ClientError, TimeoutError, OSError):
                self.refused += 1
            finally:
                self.slowest = max(self.slowest, time.monotonic() - started)
            first = False
            await asyncio.sleep(RETRY_PAUSE)

    async def run(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=self.concurrency)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

            async def worker() -> None:
                for n in self._next:
                    await self._post(session, n, deadline)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))

    async def until_acked(self, count: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.acked) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(self.acked)} of {count} messages acknowledged")
            await asyncio.sleep(0.02)
