"""RFC 822 to ``InboundMessage``. A message that cannot be understood is still returned, with its
raw bytes kept and ``parse_error`` set, so nothing received is ever dropped."""

from __future__ import annotations

import hashlib
import html as html_module
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from channels.base import Attachment, IdentityKind, InboundMessage, Party
from channels.validation import normalize_email

_MSGID = re.compile(r"<[^<>\s]+>")
_AUTOMATED_PRECEDENCE = {"bulk", "list", "junk"}


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value or ""))


def _date(mail: EmailMessage) -> datetime:
    try:
        parsed = parsedate_to_datetime(str(mail["Date"]))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</h\d>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\n{3,}", "\n\n", html_module.unescape(text)).strip()


def _body(mail: EmailMessage) -> tuple[str, str | None, tuple[Attachment, ...]]:
    text_part = mail.get_body(preferencelist=("plain",))
    html_part = mail.get_body(preferencelist=("html",))
    html = str(html_part.get_content()) if html_part is not None else None
    text = str(text_part.get_content()) if text_part is not None else html_to_text(html or "")
    attachments = []
    for part in mail.iter_attachments():
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        attachments.append(
            Attachment(
                filename=part.get_filename() or "attachment",
                content_type=part.get_content_type(),
                size=len(content),
                content=content,
                content_id=(part["Content-ID"] or "").strip("<>") or None,
                inline=part.get_content_disposition() == "inline",
            )
        )
    return text, html, tuple(attachments)


def _automated(mail: EmailMessage, sender: str) -> bool:
    auto = str(mail.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(mail.get("Precedence", "")).strip().lower()
    local = sender.partition("@")[0]
    return (
        auto != "no"
        or precedence in _AUTOMATED_PRECEDENCE
        or mail.get("List-Id") is not None
        or local in {"mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply"}
    )


def parse_rfc822(channel: str, raw: bytes) -> InboundMessage:
    digest = hashlib.sha256(raw).hexdigest()
    raw_record = {"rfc822": raw.decode("utf-8", errors="replace")}
    try:
        mail = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(mail, EmailMessage)
        senders = getaddresses([str(mail.get("From", ""))])
        name, address = senders[0] if senders else ("", "")
        sender = normalize_email(address) or ""
        message_ids = _ids(str(mail.get("Message-ID", "")))
        text, html, attachments = _body(mail)
        references = _ids(str(mail.get("References", ""))) + _ids(str(mail.get("In-Reply-To", "")))
        return InboundMessage(
            channel=channel,
            external_id=message_ids[0] if message_ids else f"<sha256-{digest}@relaydesk>",
            sender=Party(IdentityKind.EMAIL, sender or "unknown@invalid", name or None),
            text=text,
            html=html,
            subject=str(mail.get("Subject", "")) or None,
            reply_to_ids=tuple(dict.fromkeys(references)),
            attachments=attachments,
            received_at=_date(mail),
            raw=raw_record,
            automated=_automated(mail, sender),
            parse_error=None if sender else "no usable From address",
        )
    except Exception as exc:
        return InboundMessage(
            channel=channel,
            external_id=f"<sha256-{digest}@relaydesk>",
            sender=Party(IdentityKind.EMAIL, "unknown@invalid", None),
            text="",
            received_at=datetime.now(UTC),
            raw=raw_record,
            parse_error=f"{type(exc).__name__}: {exc}",
        )
