"""The hub with its email side running: inbound SMTP on an ephemeral port, outgoing mail to
the SMTP sink, a second mailbox (sales@) sharing the listener."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from hub.config.settings import Settings
from hub.email.service import EmailService
from tests.conftest import FIXTURES, make_settings
from tests.support.desk import Desk
from tests.support.smtp import SmtpSink

MAIL = FIXTURES / "mail"


def mail_settings(database_url: str, sink: SmtpSink, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "channels.mail.smtp_port": sink.port,
        "channels.mail.inbound_smtp": "127.0.0.1:0",
        "channels.sales.kind": "email",
        "channels.sales.title": "Sales",
        "channels.sales.address": "sales@relaydesk.local",
        "channels.sales.smtp_port": sink.port,
        "channels.sales.inbound_smtp": "127.0.0.1:0",
    }
    values.update(overrides)
    return make_settings(database_url, **values)


def mail(
    subject: str = "Printer on fire",
    body: str = "My printer is on fire.",
    *,
    sender: str = "Jane Cooper <jane@example.com>",
    to: str = "support@relaydesk.local",
    msgid: str | None = None,
    extra: str = "",
) -> bytes:
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Mon, 05 Jan 2026 09:00:00 +0000",
        f"Message-ID: {msgid or f'<{abs(hash((subject, body, sender, extra)))}@example.com>'}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def email_service(desk: Desk) -> EmailService:
    return desk.hub.email


def smtp_port(desk: Desk) -> int:
    """The port the hub's inbound SMTP listener got."""
    receiver = email_service(desk).receiver_for("mail")
    assert receiver is not None and receiver.listening
    return receiver.port


async def smtp_in(
    desk: Desk,
    raw: bytes,
    to: tuple[str, ...] = ("support@relaydesk.local",),
    sender: str = "",
) -> None:
    """Deliver a mail to the hub's inbound SMTP listener, as a sending server does."""
    await aiosmtplib.send(
        raw,
        sender=sender or "jane@example.com",
        recipients=list(to),
        hostname="127.0.0.1",
        port=smtp_port(desk),
    )


@pytest.fixture
def mail_overrides() -> dict[str, Any]:
    """Override in a test module to change the configuration."""
    return {}


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, mail_overrides: dict[str, Any]) -> Settings:
    """The desk in this folder runs its email side: the inbound listener and a sales@ box."""
    return mail_settings(database_url, smtp_sink, **mail_overrides)


def fixture_bytes(relative: str) -> bytes:
    return (MAIL / relative).read_bytes()


def corpus() -> list[Path]:
    skip = {"SOURCES.txt", "iphone_reply_text"}
    files = [
        p
        for p in sorted(MAIL.rglob("*"))
        if p.is_file()
        and p.name not in skip
        and not p.name.startswith("LICENSE")
        and p.suffix in (".eml", ".txt")
        and "email-reply-parser" not in p.parts
    ]
    return files
