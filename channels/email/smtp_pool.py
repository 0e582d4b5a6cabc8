"""A small pool of open SMTP connections to the relay, so a burst of replies does not pay a TCP
and TLS handshake (and AUTH) per message. A connection the server dropped while idle is
replaced once, transparently; any other failure discards the connection."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

import aiosmtplib


class SmtpPool:
    def __init__(
        self,
        factory: Callable[[], aiosmtplib.SMTP],
        size: int = 4,
        idle_seconds: float = 30.0,
        max_messages: int = 100,
    ) -> None:
        self._factory = factory
        self._size = size
        self._idle_seconds = idle_seconds
        self._max_messages = max_messages
        self._idle: list[tuple[aiosmtplib.SMTP, float, int]] = []
        self._slots: asyncio.Semaphore | None = None
        self.connections_opened = 0

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._factory()
        await client.connect()
        self.connections_opened += 1
        return client

    def _take_idle(self) -> tuple[aiosmtplib.SMTP, int] | None:
        now = time.monotonic()
        while self._idle:
            client, since, used = self._idle.pop()
            if client.is_connected and now - since < self._idle_seconds:
                return client, used
            client.close()
        return None

    async def send(self, sender: str, recipients: Sequence[str], data: bytes) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self._size)
        async with self._slots:
            reused = self._take_idle()
            client, used = reused if reused is not None else (await self._connect(), 0)
            try:
                await client.sendmail(sender, list(recipients), data)
            except aiosmtplib.SMTPServerDisconnected:
                client.close()
                if reused is None:
                    raise
                client, used = await self._connect(), 0
                await self._send_fresh(client, sender, recipients, data)
            except BaseException:
                client.close()
                raise
            used += 1
            if used >= self._max_messages:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await client.quit()
                return
            self._idle.append((client, time.monotonic(), used))

    async def _send_fresh(
        self, client: aiosmtplib.SMTP, sender: str, recipients: Sequence[str], data: bytes
    ) -> None:
        try:
            await client.sendmail(sender, list(recipients), data)
        except BaseException:
            client.close()
            raise

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _since, _used in idle:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError, TimeoutError):
                await client.quit()
            client.close()
