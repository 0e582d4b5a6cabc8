"""RFC 822 to ``InboundMessage``. A message that cannot be understood is still returned, with its
raw bytes kept and ``parse_error`` set, so nothing received is ever dropped.

The email-specific details (raw bytes, quoted history, signature, participants, bounce report,
original HTML) travel in ``InboundMessage.raw["email"]`` as a ``ParsedEmail``; the hub stores
them next to the message (hub/email/store.py)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from channels.base import Attachment, IdentityKind, InboundMessage, Party
from channels.email import mime
from channels.email.addresses import addresses, split_plus, token_from_tag, tokens_in_ids
from channels.email.dsn import DeliveryReport, delivery_report
from channels.email.html_text import html_to_text
from channels.email.quotes import split_reply
from channels.email.tnef import TnefFile, is_tnef, list_tnef
from channels.validation import normalize_email

_MSGID = re.compile(r"<[^<>\s]+>")
_AUTOMATED_PRECEDENCE = {"bulk", "list", "junk"}
_DAEMON_LOCALS = {
    "mailer-daemon",
    "postmaster",
    "no-reply",
    "noreply",
    "do-not-reply",
    "donotreply",
    "no_reply",
    "bounce",
    "bounces",
}
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|fw|wg|tr|rv)\s*:", re.IGNORECASE)
_FORWARD_MARK = re.compile(
    r"^-{5,}\s*Forwarded message\s*-{5,}\s*$|^Begin forwarded message:\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_FORWARD_FROM = re.compile(r"^\s*\**From:\**\s*(.+)$", re.IGNORECASE | re.MULTILINE)
DEFAULT_ATTACHMENT_CAP = 10 * 1024 * 1024
# EmailMessage for get_body(); compat32 leaves header values as they came (no header parsing).
_PARSER = BytesParser(EmailMessage, policy=policy.compat32)
_SERIALIZE = policy.default  # attached messages are written out as the modern policy does


@dataclass(frozen=True, slots=True)
class ParsedEmail:
    """Everything the hub keeps about a received mail besides the normalized message."""

    raw: bytes
    message_id: str
    envelope_from: str | None = None
    envelope_to: tuple[str, ...] = ()
    to: tuple[tuple[str, str], ...] = ()
    cc: tuple[tuple[str, str], ...] = ()
    reply_to: tuple[tuple[str, str], ...] = ()
    full_text: str = ""
    quoted: str = ""
    signature: str = ""
    html: str | None = None
    tokens: tuple[str, ...] = ()
    ticket_numbers: tuple[int, ...] = ()
    forwarded_from: str | None = None
    report: DeliveryReport | None = None
    tnef: tuple[tuple[int, tuple[TnefFile, ...]], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    defects: tuple[str, ...] = field(default_factory=tuple)


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value or ""))


def _date(headers: mime.Headers) -> datetime:
    try:
        parsed = parsedate_to_datetime(headers.get("Date"))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _automated(headers: mime.Headers, sender: str, envelope_from: str | None) -> bool:
    auto = headers.get("Auto-Submitted").lower() or "no"
    precedence = headers.get("Precedence").lower()
    suppress = headers.get("X-Auto-Response-Suppress").lower()
    local = sender.partition("@")[0].partition("+")[0]
    return (
        not auto.startswith("no")
        or precedence in _AUTOMATED_PRECEDENCE
        or bool(headers.get("List-Id"))
        or bool(headers.get("X-Autoreply") or headers.get("X-Autorespond"))
        or any(word in suppress for word in ("all", "oof", "autoreply"))
        or local in _DAEMON_LOCALS
        or (envelope_from is not None and envelope_from.strip("<> ") == "")
    )


def _body_parts(mail: EmailMessage) -> tuple[Message | None, Message | None]:
    text_part: Message | None
    html_part: Message | None
    try:
        text_part = mail.get_body(preferencelist=("plain",))
        html_part = mail.get_body(preferencelist=("html",))
    except Exception:
        text_part = html_part = None
    if text_part is None and html_part is None:
        for part, _parent in mime.leaves(mail):
            kind = mime.content_type(part)
            if kind in ("text/plain", "text/html") and mime.disposition(part) != "attachment":
                if kind == "text/plain" and text_part is None:
                    text_part = part
                elif kind == "text/html" and html_part is None:
                    html_part = part
    if text_part is None and html_part is None and not mail.is_multipart():
        text_part = mail  # e.g. a multipart without a boundary: its body is still readable text
    return text_part, html_part


def _attachment(part: Message, cap: int) -> Attachment:
    kind = mime.content_type(part)
    if kind == "message/rfc822":
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        content = (
            inner.as_bytes(policy=_SERIALIZE)
            if isinstance(inner, Message)
            else mime.part_bytes(part)
        )
        default_name = "forwarded-message.eml"
    elif kind.startswith("message/"):
        content = part.as_bytes(policy=_SERIALIZE).partition(b"\n\n")[2]
        default_name = kind.partition("/")[2] + ".txt"
    else:
        content = mime.part_bytes(part)
        default_name = "attachment"
    try:
        raw_id = mime.modern_get(part, "Content-ID") or ""
    except Exception:
        raw_id = ""
    content_id = mime.clean_text(raw_id).strip().strip("<>")
    return Attachment(
        filename=mime.filename(part) or default_name,
        content_type=kind,
        size=len(content),
        content=content if len(content) <= cap else None,
        content_id=content_id or None,
        inline=mime.disposition(part) == "inline"
        or (bool(content_id) and kind.startswith("image/")),
    )


def _collect(
    mail: EmailMessage, cap: int
) -> tuple[str, str | None, tuple[Attachment, ...], tuple[tuple[int, tuple[TnefFile, ...]], ...]]:
    text_part, html_part = _body_parts(mail)
    html = mime.part_text(html_part) if html_part is not None else None
    text = mime.part_text(text_part) if text_part is not None else html_to_text(html or "")
    attachments: list[Attachment] = []
    tnef: list[tuple[int, tuple[TnefFile, ...]]] = []
    extra_text: list[str] = []
    for part, parent in mime.leaves(mail):
        if part is text_part or part is html_part:
            continue
        kind = mime.content_type(part)
        named = mime.filename(part) is not None
        if kind in ("text/plain", "text/html") and not named:
            if parent == "multipart/alternative":
                continue  # the other rendering of the body we already have
            if kind == "text/plain" and mime.disposition(part) != "attachment":
                extra_text.append(mime.part_text(part))  # Apple Mail splits text around images
                continue
        attachment = _attachment(part, cap)
        if is_tnef(attachment.filename, attachment.content_type):
            tnef.append((len(attachments), tuple(list_tnef(mime.part_bytes(part)))))
        attachments.append(attachment)
    if extra_text and text_part is not None:
        text = "\n\n".join([text.rstrip(), *(t.strip() for t in extra_text)])
    return text, html, tuple(attachments), tuple(tnef)


def _own_tokens(pairs: Iterable[str], own: frozenset[str]) -> list[str]:
    found = []
    for address in pairs:
        base, tag = split_plus(address)
        token = token_from_tag(tag)
        if token and (not own or base in own):
            found.append(token)
    return found


def _forwarded_from(mail: EmailMessage, subject: str, text: str) -> str | None:
    for part, _parent in mime.leaves(mail):
        if mime.content_type(part) == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message):
                return mime.header(inner, "From") or None
    mark = _FORWARD_MARK.search(text)
    if mark is not None or _FORWARD_SUBJECT.match(subject):
        found = _FORWARD_FROM.search(text, mark.end() if mark else 0)
        if found is not None:
            return mime.clean_text(found.group(1).strip().strip("*").strip())
    return None


# Headers that servers on the way add or rewrite: the same mail relayed by two routes differs in
# these only. Any X- header counts (spam scores, originating IPs, list and relay traces).
_TRACE_HEADERS = frozenset(
    {
        "received",
        "return-path",
        "delivered-to",
        "x-original-to",
        "envelope-to",
        "received-spf",
        "authentication-results",
        "dkim-signature",
        "domainkey-signature",
        "arc-seal",
        "arc-message-signature",
        "arc-authentication-results",
        "resent-date",
        "resent-from",
        "resent-sender",
        "resent-to",
        "resent-cc",
        "resent-message-id",
    }
)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(rb"\r?\n[ \t]+")


def relay_digest(raw: bytes) -> str:
    """SHA-256 of what relaying leaves as it is: the headers other than trace headers (names
    lower-cased, whitespace collapsed, in their order) and the body (line ends and trailing
    spaces normalised). The identity of a mail without a Message-ID."""
    found = _BLANK_LINE.search(raw)
    head, body = (raw[: found.start()], raw[found.end() :]) if found else (raw, b"")
    kept: list[bytes] = []
    for line in _FOLD.sub(b" ", head).splitlines():
        name, colon, value = line.partition(b":")
        key = name.strip().lower()
        if not colon or key.decode("latin-1") in _TRACE_HEADERS or key.startswith(b"x-"):
            continue
        kept.append(key + b":" + b" ".join(value.split()))
    lines = [line.rstrip() for line in body.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return hashlib.sha256(b"\n".join(kept) + b"\n\n" + b"\n".join(lines)).hexdigest()


def parse_rfc822(
    channel: str,
    raw: bytes,
    *,
    envelope_from: str | None = None,
    envelope_to: tuple[str, ...] = (),
    own_addresses: frozenset[str] = frozenset(),
    attachment_cap: int = DEFAULT_ATTACHMENT_CAP,
) -> InboundMessage:
    fallback_id = f"<sha256-{relay_digest(raw)}@relaydesk>"
    try:
        # One pass with the cheap compat32 policy (its MIME structure is the modern one's);
        # headers are read as the modern policy reads them, each once (mime.Headers).
        mail = _PARSER.parsebytes(raw)
        assert isinstance(mail, EmailMessage)
        headers = mime.Headers(mail)
        senders = addresses(headers.get("From"))
        name, address = senders[0] if senders else ("", "")
        sender = normalize_email(address) or ""
        message_ids = _ids(headers.get("Message-ID"))
        message_id = message_ids[0] if message_ids else fallback_id
        subject = headers.get("Subject")
        text, html, attachments, tnef = _collect(mail, attachment_cap)
        text = mime.clean_text(text)
        html = mime.clean_text(html) if html is not None else None
        reply_ids = tuple(
            dict.fromkeys(_ids(headers.get("References")) + _ids(headers.get("In-Reply-To")))
        )
        to = tuple(addresses(headers.get("To")))
        cc = tuple(addresses(headers.get("Cc")))
        delivered = [a for _, a in addresses(headers.get("Delivered-To"))]
        recipients = [*envelope_to, *(a for _, a in to), *(a for _, a in cc), *delivered]
        tokens = (*_own_tokens(recipients, own_addresses), *tokens_in_ids(reply_ids))
        report = delivery_report(mail, raw.decode("utf-8", "replace"), envelope_from)
        parts = split_reply(text)
        defects = tuple(type(defect).__name__ for defect in mail.defects)
        details = ParsedEmail(
            raw=raw,
            message_id=message_id,
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            to=to,
            cc=cc,
            reply_to=tuple(addresses(headers.get("Reply-To"))),
            full_text=text,
            quoted=parts.quoted,
            signature=parts.signature,
            html=html,
            tokens=tuple(dict.fromkeys(tokens)),
            ticket_numbers=tuple(int(n) for n in re.findall(r"\[#(\d{1,9})\]", subject)),
            forwarded_from=_forwarded_from(mail, subject, text),
            report=report,
            tnef=tnef,
            headers=headers.listing(200),
            defects=defects,
        )
        problem = None if sender or report is not None else "no usable From address"
        if report is None and not text.strip() and not attachments and defects:
            problem = "the message structure is broken: " + ", ".join(defects)
        return InboundMessage(
            channel=channel,
            external_id=message_id[:500],
            sender=Party(IdentityKind.EMAIL, sender or "unknown@invalid", name or None),
            text=parts.new_text or text.strip(),
            html=html,
            subject=subject or None,
            thread_key=(reply_ids[0] if reply_ids else message_id)[:500],
            reply_to_ids=reply_ids,
            attachments=attachments,
            received_at=_date(headers),
            raw={"email": details},
            automated=not sender
            or report is not None
            or _automated(headers, sender, envelope_from),
            parse_error=problem,
        )
    except Exception as exc:
        return InboundMessage(
            channel=channel,
            external_id=fallback_id,
            sender=Party(IdentityKind.EMAIL, "unknown@invalid", None),
            text="",
            received_at=datetime.now(UTC),
            raw={"email": ParsedEmail(raw=raw, message_id=fallback_id, envelope_to=envelope_to)},
            automated=True,
            parse_error=f"{type(exc).__name__}: {exc}",
        )
