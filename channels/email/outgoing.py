"""Composing outgoing mail: multipart text + HTML, threading headers, a Reply-To that carries the
conversation token, attachments, and an optional DKIM signature."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import dkim

from channels.base import OutboundMessage
from channels.email.addresses import reply_address, tokens_in_ids

DKIM_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"in-reply-to",
    b"references",
    b"reply-to",
    b"mime-version",
    b"content-type",
)


def build_email(
    address: str, display_name: str, message: OutboundMessage, *, reply_to: bool = True
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((message.sender_name or display_name, address))
    mail["To"] = formataddr((message.recipient.name or "", message.recipient.address))
    mail["Subject"] = message.subject or ""
    if message.external_id:
        mail["Message-ID"] = message.external_id
        tokens = tokens_in_ids([message.external_id])
        if reply_to and tokens:
            mail["Reply-To"] = formataddr((display_name, reply_address(address, tokens[0])))
    if message.in_reply_to:
        mail["In-Reply-To"] = message.in_reply_to
    if message.references:
        mail["References"] = " ".join(message.references)
    if message.automated:
        mail["Auto-Submitted"] = "auto-replied"
        mail["X-Auto-Response-Suppress"] = "All"
    mail["Date"] = format_datetime(datetime.now(UTC))
    for key, value in message.headers.items():
        mail[key] = value
    mail.set_content(message.text)
    if message.html:
        mail.add_alternative(message.html, subtype="html")
    for attachment in message.attachments:
        if attachment.content is None:
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail


def to_bytes(mail: EmailMessage) -> bytes:
    return mail.as_bytes(policy=policy.SMTP)


def dkim_sign(data: bytes, selector: str, domain: str, private_key: bytes) -> bytes:
    """``data`` with a DKIM-Signature header prepended (relaxed/relaxed, rsa-sha256)."""
    signature = dkim.sign(
        data,
        selector.encode(),
        domain.encode(),
        private_key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=list(DKIM_HEADERS),
    )
    return bytes(signature) + data
