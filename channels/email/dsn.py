"""Delivery status notifications (RFC 3464 bounces), recognized even when they are not labelled.

A message is a bounce when it carries a ``message/delivery-status`` part and is either a
``multipart/report`` or comes from the null sender or a mailer daemon. Truncated reports whose
MIME structure is broken are read line by line from the body instead."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser

from channels.email import mime

_DAEMONS = ("mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon")
_FIELD = re.compile(r"^([A-Za-z-]+)\s*:\s*(.*)$")
_MSGID = re.compile(r"<[^<>\s]+@[^<>\s]+>")
_FINAL = re.compile(r"(?im)^\s*Final-Recipient\s*:\s*(?:rfc822\s*;)?\s*<?([^\s>]+@[^\s>]+)>?")
_ACTION = re.compile(r"(?im)^\s*Action\s*:\s*(\w+)")
_STATUS = re.compile(r"(?im)^\s*Status\s*:\s*([245]\.\d{1,3}\.\d{1,3})")
_ORIGINAL_ID = re.compile(r"(?im)^\s*Message-Id\s*:\s*(<[^<>\s]+>)")


@dataclass(frozen=True, slots=True)
class FailedRecipient:
    address: str
    action: str
    status: str
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.action == "failed" and not self.status.startswith("4.")


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    recipients: tuple[FailedRecipient, ...]
    original_message_ids: tuple[str, ...]
    reporting_mta: str

    @property
    def failed(self) -> tuple[FailedRecipient, ...]:
        return tuple(r for r in self.recipients if r.action == "failed")


def _leaf_parts(mail: Message) -> list[Message]:
    """Parts of the message itself, not looking inside attached messages."""
    found: list[Message] = []

    def visit(part: Message) -> None:
        found.append(part)
        if part.is_multipart() and part.get_content_type() != "message/rfc822":
            payload = part.get_payload()
            if isinstance(payload, list):
                for child in payload:
                    if isinstance(child, Message):
                        visit(child)

    visit(mail)
    return found


def _get(mail: Message, name: str, default: str) -> str:
    """The header as ``policy.default`` reads it, whatever policy parsed ``mail``."""
    found = mime.modern_get(mail, name)
    return default if found is None else found


def _null_sender(mail: Message, envelope_from: str | None) -> bool:
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return True
    return _get(mail, "Return-Path", "x").strip() == "<>"


def _daemon_sender(mail: Message) -> bool:
    sender = _get(mail, "From", "").lower()
    return any(daemon in sender for daemon in _DAEMONS) or "<>" in sender


def _status_blocks(part: Message) -> list[dict[str, str]]:
    payload = part.get_payload()
    blocks: list[dict[str, str]] = []
    if isinstance(payload, list):
        for block in payload:
            if isinstance(block, Message):
                blocks.append(
                    {key.lower(): mime.modern_text(key, value) for key, value in block.raw_items()}
                )
        return blocks
    text = part.get_payload(decode=True)
    raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(payload)
    for chunk in re.split(r"\n\s*\n", raw.replace("\r\n", "\n")):
        fields: dict[str, str] = {}
        for line in chunk.splitlines():
            match = _FIELD.match(line)
            if match:
                fields[match.group(1).lower()] = match.group(2).strip()
        if fields:
            blocks.append(fields)
    return blocks


def _recipient(fields: dict[str, str]) -> FailedRecipient | None:
    final = fields.get("final-recipient") or fields.get("original-recipient")
    if not final:
        return None
    address = final.partition(";")[2].strip() if ";" in final else final.strip()
    status = fields.get("status", "").split()[0] if fields.get("status") else ""
    return FailedRecipient(
        address=address.strip("<>").lower(),
        action=fields.get("action", "failed").strip().lower(),
        status=status,
        diagnostic=fields.get("diagnostic-code", "").partition(";")[2].strip()
        or fields.get("diagnostic-code", ""),
    )


def _original_ids(parts: list[Message], mail: Message) -> tuple[str, ...]:
    ids: list[str] = []
    for part in parts:
        kind = part.get_content_type()
        if kind == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if isinstance(inner, Message) and _get(inner, "Message-ID", ""):
                ids.extend(_MSGID.findall(_get(inner, "Message-ID", "")))
        elif kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
            headers = HeaderParser().parsestr(text)
            ids.extend(_MSGID.findall(str(headers.get("Message-ID", ""))))
    own = _get(mail, "Message-ID", "")
    return tuple(dict.fromkeys(i for i in ids if i not in own))


def _from_text(body: str, mail: Message) -> DeliveryReport | None:
    recipients = []
    for match in _FINAL.finditer(body):
        tail = body[match.end() : match.end() + 600]
        action = _ACTION.search(tail)
        status = _STATUS.search(tail)
        recipients.append(
            FailedRecipient(
                match.group(1).lower(),
                action.group(1).lower() if action else "failed",
                status.group(1) if status else "",
                "",
            )
        )
    if not recipients:
        return None
    own = _get(mail, "Message-ID", "")
    ids = [i for i in _ORIGINAL_ID.findall(body) if i not in own]
    return DeliveryReport(tuple(recipients), tuple(dict.fromkeys(ids)), "")


def _labelled(mail: Message) -> bool:
    raw = next((v for k, v in mail.raw_items() if k.lower() == "content-type"), "")
    plain = isinstance(raw, str) and raw.isascii() and "=?" not in raw
    if plain and "delivery-status" not in str(raw).lower():  # nor in its parsed form
        return False
    return "delivery-status" in _get(mail, "Content-Type", "").lower()


def delivery_report(
    mail: Message, raw_body: str, envelope_from: str | None = None
) -> DeliveryReport | None:
    """The report if ``mail`` is a bounce, else None (any policy may have parsed ``mail``)."""
    parts = _leaf_parts(mail)
    status_parts = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    is_report = mail.get_content_type() == "multipart/report"
    if not status_parts and not is_report and not _labelled(mail):
        return None
    labelled = _labelled(mail)
    sender_says = _null_sender(mail, envelope_from) or _daemon_sender(mail)
    if status_parts and (is_report or sender_says):
        recipients: list[FailedRecipient] = []
        reporting = ""
        for part in status_parts:
            for fields in _status_blocks(part):
                reporting = reporting or fields.get("reporting-mta", "").partition(";")[2].strip()
                found = _recipient(fields)
                if found is not None:
                    recipients.append(found)
        return DeliveryReport(tuple(recipients), _original_ids(parts, mail), reporting)
    if (labelled or is_report) and sender_says:
        return _from_text(raw_body, mail) or DeliveryReport((), (), "")
    return None
