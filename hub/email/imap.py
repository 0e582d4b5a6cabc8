"""Reading an existing mailbox over IMAP (aioimaplib): IDLE where the server offers it, polling
otherwise.

The position in the mailbox (UIDVALIDITY and the last UID whose mail is committed) is stored in
``email_mailboxes`` *after* the mail is committed. New mail is fetched in batches of up to
``BATCH`` and delivered together, so the group commit stores a batch in one transaction; the
position moves to a batch's last UID once all of its mails are committed. A crash between
fetch and commit therefore fetches the mail again; the Message-ID dedupe makes the second
delivery a duplicate, so a restart never imports a message twice and never loses one.
Network errors reconnect with exponential backoff; every state change is recorded for admins
to see."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import ssl
from collections.abc import Callable
from typing import Any

import aioimaplib

from channels.email.adapter import ImapConfig
from hub.email.inbox import EmailInbox
from hub.email.state import MailboxStates
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
_UIDVALIDITY = re.compile(rb"UIDVALIDITY (\d+)")
_FETCH_UID = re.compile(rb"UID (\d+)")
# Mails fetched, then delivered together (one group commit) before the position moves on.
BATCH = 32


class ImapError(Exception):
    """The server refused something; the message names what."""


def _text(response: Any) -> str:
    lines = [bytes(line).decode("utf-8", "replace") for line in response.lines]
    return " ".join(line for line in lines if line).strip()[:300]


def _uids(response: Any) -> list[int]:
    found: list[int] = []
    for line in response.lines[:-1]:
        for token in bytes(line).split():
            if token.isdigit():
                found.append(int(token))
    return sorted(set(found))


def _literal(response: Any) -> bytes | None:
    lines = list(response.lines)
    for index, line in enumerate(lines[:-1]):
        if isinstance(line, bytes | bytearray) and bytes(line).rstrip().endswith(b"}"):
            return bytes(lines[index + 1])
    return None


class ImapPoller:
    def __init__(
        self,
        channel: str,
        config: ImapConfig,
        inbox: EmailInbox,
        states: MailboxStates,
        follow: Callable[[], ImapConfig | None] = lambda: None,
    ) -> None:
        self.channel = channel
        self.config = config
        self.follow = follow  # the current config (settings an admin changed), read every round
        self.inbox = inbox
        self.states = states
        self._failures = 0
        self._client: Any = None
        self._uidvalidity = 0
        self._idle = False
        self.fetched = asyncio.Event()
        self.worker = Worker(
            f"relaydesk-imap-{channel}",
            self._round,
            on_failure=self._reconnect_later,
            after_stop=self._stopped,
        )

    async def _stopped(self) -> None:
        client, self._client = self._client, None
        await self._logout(client)
        await self._report("stopped")

    async def _report(self, state: str, **fields: Any) -> None:
        try:
            await self.states.report(self.channel, "imap", state, **fields)
        except Exception:
            log.exception("could not record the IMAP state of %s", self.channel)

    def backoff(self) -> float:
        ceiling = min(self.config.max_backoff_seconds, 2.0 ** max(0, self._failures - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))

    async def _round(self) -> float:
        """Connect if needed, fetch what is new, then wait for more (IDLE, or a poll pause).
        A changed config (a password an admin replaced) reconnects with it first."""
        latest = self.follow()
        if latest is not None and latest != self.config:
            self.config = latest
            client, self._client = self._client, None
            await self._logout(client)
        if self._client is None:
            await self._open()
        elif not self._idle:
            await self._client.noop()
        await self._fetch_new(self._client, self._uidvalidity)
        if self._idle:
            await self._wait_idle(self._client)
            return 0
        return self.config.poll_seconds

    async def _reconnect_later(self, exc: Exception) -> float:
        self._failures += 1
        delay = self.backoff()
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        await self._report("reconnecting", error=error, detail=f"retry in {delay:.0f} s")
        client, self._client = self._client, None
        await self._logout(client)
        return delay

    async def _logout(self, client: Any) -> None:
        if client is None:
            return
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await client.logout()

    async def _connect(self) -> Any:
        config = self.config
        if config.use_tls:
            client = aioimaplib.IMAP4_SSL(
                host=config.host,
                port=config.port,
                timeout=config.timeout_seconds,
                ssl_context=ssl.create_default_context(),
            )
        else:
            client = aioimaplib.IMAP4(
                host=config.host, port=config.port, timeout=config.timeout_seconds
            )
        await client.wait_hello_from_server()
        response = await client.login(config.username, config.password)
        if response.result != "OK":
            raise ImapError(f"login refused: {_text(response)}")
        return client

    async def _select(self, client: Any) -> int:
        response = await client.select(self.config.mailbox)
        if response.result != "OK":
            raise ImapError(f"cannot open mailbox {self.config.mailbox}: {_text(response)}")
        for line in response.lines:
            match = _UIDVALIDITY.search(bytes(line))
            if match:
                return int(match.group(1))
        raise ImapError("the server did not report UIDVALIDITY")

    async def _open(self) -> None:
        client = await self._connect()
        try:
            self._uidvalidity = await self._select(client)
        except BaseException:
            await self._logout(client)
            raise
        self._client = client
        self._idle = self.config.idle and client.has_capability("IDLE")
        self._failures = 0
        await self._report(
            "connected",
            detail=("idle" if self._idle else "polling") + f" on {self.config.mailbox}",
        )

    async def _wait_idle(self, client: Any) -> None:
        waiting = await client.idle_start(timeout=self.config.idle_seconds)
        with contextlib.suppress(TimeoutError):
            await client.wait_server_push(timeout=self.config.idle_seconds + 5)
        client.idle_done()
        async with asyncio.timeout(self.config.timeout_seconds):
            await waiting

    async def _fetch_new(self, client: Any, uidvalidity: int) -> None:
        position = await self.states.position(self.channel)
        last = position.last_uid
        if position.uidvalidity is not None and position.uidvalidity != uidvalidity:
            log.warning(
                "imap %s: UIDVALIDITY changed (%s -> %s); reading the mailbox again",
                self.channel,
                position.uidvalidity,
                uidvalidity,
            )
            last = 0
        response = await client.uid_search(f"UID {last + 1}:*", charset=None)
        if response.result != "OK":
            raise ImapError(f"search failed: {_text(response)}")
        uids = [u for u in _uids(response) if u > last]
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            raws = [await self._fetch(client, uid) for uid in chunk]
            # Delivered together, so the group commit stores them in one transaction; the
            # position moves only once every one of them is committed.
            await asyncio.gather(*(self.inbox.deliver(self.channel, raw) for raw in raws))
            await self.states.commit_position(self.channel, uidvalidity, chunk[-1])
            log.info("imap %s: committed uids %d-%d", self.channel, chunk[0], chunk[-1])
            self.fetched.set()

    async def _fetch(self, client: Any, uid: int) -> bytes:
        fetched = await client.uid("fetch", str(uid), "(BODY.PEEK[])")
        raw = _literal(fetched) if fetched.result == "OK" else None
        if raw is None:
            raise ImapError(f"fetch of UID {uid} failed: {_text(fetched)}")
        log.info("imap %s: fetched uid %d (%d bytes)", self.channel, uid, len(raw))
        return raw
