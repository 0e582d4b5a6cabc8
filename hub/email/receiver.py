"""The inbound SMTP server (aiosmtpd). The recipient picks the mailbox; unknown recipients are
refused at RCPT time, oversized mail with 552 (SIZE is advertised), and a message is answered
250 only once it is committed. A database outage answers 451 so the sender retries."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from hub.email.directory import MailboxDirectory
from hub.email.inbox import EmailInbox
from hub.email.state import MailboxStates

log = logging.getLogger(__name__)

ACCEPTED = "250 2.0.0 Message accepted for delivery"
UNKNOWN_RECIPIENT = "550 5.1.1 <{address}>: no such mailbox here"
TOO_BIG = "552 5.3.4 Message too big for this mailbox (limit {limit} bytes)"
TRY_LATER = "451 4.3.0 Message not stored; please try again later"
NO_RECIPIENT = "554 5.5.1 No valid recipients"


_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
# MAIL FROM:<a@b.c> SIZE=123: a plain angle address, then the parameters after one run of
# blanks (as aiosmtpd's header parser leaves them).
_PLAIN_PATH = re.compile(
    rf"<({_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:[ \t]+([^ \t(].*))?",
    re.S,
)


class _Smtp(SMTP):
    """aiosmtpd's server; the address of MAIL and RCPT read without the RFC 5322 parser when
    it is a plain ``<local@domain>``, with the same result."""

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        plain = _PLAIN_PATH.fullmatch(arg)
        if plain is None:
            return super()._getaddr(arg)
        address = plain.group(1)
        if self.local_part_limit and len(address.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return address, plain.group(2) or ""


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.receiver.directory.channel_for(address) is None:
            return UNKNOWN_RECIPIENT.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        raw = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        return await self.receiver.accept(str(envelope.mail_from or ""), envelope.rcpt_tos, raw)


class SmtpReceiver:
    """One listening socket; every email channel configured with the same address shares it."""

    def __init__(
        self,
        host: str,
        port: int,
        directory: MailboxDirectory,
        inbox: EmailInbox,
        states: MailboxStates,
        channels: tuple[str, ...],
        limits: dict[str, int],
        hostname: str,
    ) -> None:
        self.host = host
        self.port = port
        self.directory = directory
        self.inbox = inbox
        self.states = states
        self.channels = channels
        self.limits = limits
        self.hostname = hostname
        self._server: asyncio.Server | None = None

    @property
    def data_size_limit(self) -> int:
        return max(self.limits.values())

    async def accept(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> str:
        targets: dict[str, list[str]] = {}
        for address in rcpt_tos:
            channel = self.directory.channel_for(address)
            if channel is not None:
                targets.setdefault(channel, []).append(address.lower())
        if not targets:
            return NO_RECIPIENT
        for channel in targets:
            if len(raw) > self.limits.get(channel, self.data_size_limit):
                return TOO_BIG.format(limit=self.limits[channel])
        try:
            for channel, addresses in targets.items():
                await self.inbox.deliver(
                    channel, raw, envelope_from=mail_from, envelope_to=tuple(addresses)
                )
        except Exception as exc:
            log.exception("inbound mail from %s could not be stored", mail_from)
            for channel in targets:
                await self._note_error(channel, f"a message could not be stored: {exc}")
            return TRY_LATER
        return ACCEPTED

    async def _note_error(self, channel: str, error: str) -> None:
        try:
            await self.states.report(channel, "smtp", "listening", error=error)
        except Exception:
            log.exception("could not record the mailbox state of %s", channel)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler: Any = _Handler(self)
        try:
            self._server = await loop.create_server(
                lambda: _Smtp(
                    handler,
                    hostname=self.hostname,
                    data_size_limit=self.data_size_limit,
                    enable_SMTPUTF8=True,
                    decode_data=False,
                    ident="Relaydesk ESMTP",
                ),
                self.host,
                self.port,
            )
        except OSError as exc:
            log.error("inbound SMTP cannot listen on %s:%s: %s", self.host, self.port, exc)
            for channel in self.channels:
                await self.states.report(
                    channel,
                    "smtp",
                    "error",
                    error=f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}",
                    detail=f"{self.host}:{self.port}",
                )
            return
        self.port = self._server.sockets[0].getsockname()[1]
        for channel in self.channels:
            await self.states.report(
                channel, "smtp", "listening", detail=f"{self.host}:{self.port}"
            )

    @property
    def listening(self) -> bool:
        return self._server is not None

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
            for channel in self.channels:
                await self.states.report(channel, "smtp", "stopped")
