"""Outgoing mail through a real SMTP server (aiosmtpd): multipart, threading headers, Reply-To
with the conversation token, connection reuse, DKIM signatures that verify."""

from __future__ import annotations

import asyncio
import base64
import re
import subprocess
from pathlib import Path
from typing import Any

import dkim

from channels.base import Attachment, IdentityKind, OutboundMessage, Party
from channels.email.adapter import EmailChannel, EmailChannelConfig
from tests.support.smtp import SmtpSink


class CountingSink(SmtpSink):
    """Counts SMTP sessions (one EHLO per connection)."""

    sessions: int = 0

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses


def outbound(number: int, **extra: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": number,
        "channel": "mail",
        "recipient": Party(IdentityKind.EMAIL, f"customer{number}@example.com", "Jane Cooper"),
        "text": "Plain text",
        "html": "<p>HTML text</p>",
        "subject": "Re: Help [#1000]",
        "external_id": f"<rd.0123456789abcdef.{number:06x}@relaydesk.local>",
        "in_reply_to": "<customer@example.com>",
        "references": ("<customer@example.com>",),
    }
    values.update(extra)
    return OutboundMessage(**values)


def channel(sink: SmtpSink, **extra: Any) -> EmailChannel:
    config = EmailChannelConfig(
        kind="email",
        address="support@relaydesk.local",
        display_name="Relaydesk Support",
        smtp_port=sink.port,
        **extra,
    )
    return EmailChannel("mail", config)


async def test_reply_is_multipart_threaded_and_carries_the_token_reply_address() -> None:
    sink = SmtpSink()
    await sink.start()
    mail = channel(sink)
    result = await mail.send(
        outbound(
            1,
            automated=True,
            attachments=(Attachment("invoice.pdf", "application/pdf", 4, b"%PDF"),),
        )
    )
    await mail.stop()
    await sink.stop()
    assert result.ok
    [received] = sink.received
    message = received.message
    assert received.mail_from == "support@relaydesk.local"
    assert message["Reply-To"] == "Relaydesk Support <support+0123456789abcdef@relaydesk.local>"
    assert message["In-Reply-To"] == "<customer@example.com>"
    assert message["Auto-Submitted"] == "auto-replied"
    assert received.text().strip() == "Plain text"
    assert (received.html() or "").strip() == "<p>HTML text</p>"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice.pdf"


async def test_a_reply_without_files_in_a_long_thread_keeps_every_header_readable() -> None:
    sink = SmtpSink()
    await sink.start()
    mail = channel(sink)
    thread = tuple(f"<message-{n:03d}.{'x' * 40}@mail.example.com>" for n in range(40))
    result = await mail.send(
        outbound(
            2,
            subject="Re: Rückerstattung für Bestellung 4711 [#1000]",
            text="Grüße aus Köln,\n\nIhr Geld ist unterwegs.\n-- \nSupport",
            recipient=Party(IdentityKind.EMAIL, "jane@example.com", "Jürgen Weiß"),
            in_reply_to=thread[-1],
            references=thread,
            automated=True,
            headers={"X-Campaign": "none\r\nBcc: someone@evil.example"},
        )
    )
    await mail.stop()
    await sink.stop()
    assert result.ok
    [received] = sink.received
    assert all(len(line) <= 998 for line in received.raw.split(b"\r\n"))
    message = received.message
    assert message["Subject"] == "Re: Rückerstattung für Bestellung 4711 [#1000]"
    assert message["To"].addresses[0].display_name == "Jürgen Weiß"
    assert message["Reply-To"] == "Relaydesk Support <support+0123456789abcdef@relaydesk.local>"
    assert message["In-Reply-To"] == thread[-1]
    assert message["References"].split() == list(thread)
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["Bcc"] is None  # a line break in a header value starts no new header
    assert received.text().replace("\r\n", "\n").strip() == (
        "Grüße aus Köln,\n\nIhr Geld ist unterwegs.\n-- \nSupport"
    )
    assert (received.html() or "").strip() == "<p>HTML text</p>"


async def test_connections_to_the_relay_are_reused() -> None:
    sink = CountingSink()
    await sink.start()
    mail = channel(sink, smtp_connections=2)
    results = await asyncio.gather(*(mail.send(outbound(n)) for n in range(20)))
    assert all(r.ok for r in results)
    assert len(sink.received) == 20
    assert sink.sessions <= 2
    await mail.stop()
    await sink.stop()


async def test_a_connection_the_server_dropped_is_replaced() -> None:
    sink = SmtpSink()
    await sink.start()
    mail = channel(sink)
    assert (await mail.send(outbound(1))).ok
    for client, _since, _used in mail.pool._idle:
        client.close()  # the relay closed the idle connection
    assert (await mail.send(outbound(2))).ok
    assert len(sink.received) == 2
    await mail.stop()
    await sink.stop()


async def test_relay_refusal_is_a_permanent_failure() -> None:
    sink = SmtpSink(reject_with="550 5.7.1 relaying denied")
    await sink.start()
    result = await channel(sink).send(outbound(1))
    await sink.stop()
    assert not result.ok and result.permanent


async def test_dkim_signature_verifies(tmp_path: Path) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(
        ["openssl", "genrsa", "-traditional", "-out", str(key), "2048"],
        check=True,
        capture_output=True,
    )
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    sink = SmtpSink()
    await sink.start()
    mail = channel(sink, dkim_selector="rd2026", dkim_private_key_file=str(key))
    assert (await mail.send(outbound(1))).ok
    await mail.stop()
    await sink.stop()
    [received] = sink.received
    assert re.search(rb"^DKIM-Signature: .*d=relaydesk.local", received.raw, re.M | re.S)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"rd2026._domainkey.relaydesk.local."
        return b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    assert dkim.verify(received.raw, dnsfunc=dns)
