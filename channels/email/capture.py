"""A local SMTP server that keeps what it receives: the demo's outbox you can look at."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True, slots=True)
class CapturedMail:
    number: int
    received_at: datetime
    mail_from: str
    rcpt_tos: tuple[str, ...]
    subject: str
    raw: bytes


class _Handler:
    def __init__(self, store: CaptureStore) -> None:
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.store.add(str(envelope.mail_from), tuple(envelope.rcpt_tos), bytes(content))
        return "250 Message accepted for delivery"


class CaptureStore:
    def __init__(self, keep: int) -> None:
        self._mail: deque[CapturedMail] = deque(maxlen=keep)
        self._count = 0

    def add(self, mail_from: str, rcpt_tos: tuple[str, ...], raw: bytes) -> None:
        self._count += 1
        headers = BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)
        self._mail.append(
            CapturedMail(
                self._count, datetime.now(UTC), mail_from, rcpt_tos, str(headers["Subject"]), raw
            )
        )

    def all(self) -> list[CapturedMail]:
        return list(reversed(self._mail))

    def get(self, number: int) -> CapturedMail | None:
        return next((mail for mail in self._mail if mail.number == number), None)


class CaptureServer:
    def __init__(self, host: str, port: int, keep: int = 500) -> None:
        self.host = host
        self.port = port
        self.store = CaptureStore(keep)
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler: Any = _Handler(self.store)
        self._server = await loop.create_server(
            lambda: SMTP(handler, hostname="relaydesk-capture"), self.host, self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
