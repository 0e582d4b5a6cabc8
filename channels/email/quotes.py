"""Separate the new text of a reply from the quoted history and the signature.

Handles top-posting ("Hello\\n\\nOn ... wrote:\\n> Hi"), bottom-posting and inline replies
(unquoted lines between ``>`` blocks are kept), Outlook header blocks ("From: ... Sent: ..."),
"-----Original Message-----" separators, forwarded-message markers, localized attribution lines
that end with a colon, "-- " signatures, "Sent from my ..." lines and mailing-list footers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ON_WROTE = re.compile(
    r"^\s*-*\s*(On|Le|Am|El|Il|Op|Em|Den|På)\s.{0,300}"
    r"(wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu|skrev)\s*:?\s*-*\s*$",
    re.IGNORECASE | re.DOTALL,
)
_SEPARATOR = re.compile(
    r"^\s*(-{3,}\s*(Original Message|Forwarded message|Ursprüngliche Nachricht|Message d'origine)"
    r"\s*-{3,}|Begin forwarded message:|-{5,}\s*Original Message\s*-{5,})\s*$",
    re.IGNORECASE,
)
_HEADER_FIELD = re.compile(
    r"^\s*\**\s*(From|Von|De|Sent|Gesendet|Envoyé|Date|Datum|To|An|À|Cc|Subject|Betreff|Objet)"
    r"\s*:\s*\**",
    re.IGNORECASE,
)
_FROM_FIELD = re.compile(r"^\s*\**\s*(From|Von|De)\s*:", re.IGNORECASE)
_RULE = re.compile(r"^\s*([-_=*]\s*){8,}$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \w[\w ]{0,40}|Sent from (Mail|Outlook) for \w+|Get Outlook for \w+|"
    r"Envoyé de mon \w+|Von meinem \w[\w ]{0,40} gesendet)\.?\s*$",
    re.IGNORECASE,
)
_ATTRIBUTION_HINT = re.compile(r"\d|@|wrote|написал|schrieb|écrit|escribió|skrev", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ReplyParts:
    new_text: str
    quoted: str
    signature: str


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _on_wrote_length(lines: list[str], index: int) -> int:
    """How many lines (1-3) form an "On <date>, <name> wrote:" attribution starting here."""
    for length in (1, 2, 3):
        chunk = " ".join(line.strip() for line in lines[index : index + length])
        if len(lines[index : index + length]) == length and _ON_WROTE.match(chunk):
            return length
    return 0


def _header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style block: a From: line followed closely by Sent:/Date:/To:/Subject:."""
    if not _FROM_FIELD.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()]
    return sum(1 for line in following[:4] if _HEADER_FIELD.match(line)) >= 2


def _history_starts(lines: list[str], index: int) -> bool:
    line = lines[index]
    if _SEPARATOR.match(line) or _header_block(lines, index):
        return True
    if _RULE.match(line):
        rest = [candidate for candidate in lines[index + 1 : index + 4] if candidate.strip()]
        return bool(rest) and _header_block(lines, lines.index(rest[0], index + 1))
    return False


def _next_content(lines: list[str], index: int) -> str | None:
    for line in lines[index:]:
        if line.strip():
            return line
    return None


def _take_attribution(visible: list[str], quoted: list[str]) -> None:
    """Lines just above a quoted block that end with a colon introduce it ("... wrote:")."""
    end = len(visible)
    while end and not visible[end - 1].strip():
        end -= 1
    if not end or not visible[end - 1].rstrip().endswith(":"):
        return
    start = end - 1
    while start > 0 and end - start < 2 and visible[start - 1].strip():
        start -= 1
    block = visible[start:end]
    if _ATTRIBUTION_HINT.search(" ".join(block)):
        quoted.extend(block)
        del visible[start:]


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    for index, line in enumerate(lines):
        if line.rstrip() in ("--", "-- ", "__") or line == "-- ":
            return lines[:index], lines[index:]
    for index in range(len(lines) - 1, -1, -1):
        if _MOBILE_SIGNATURE.match(lines[index]):
            tail = [line for line in lines[index + 1 :] if line.strip()]
            if len(tail) <= 2:
                return lines[:index], lines[index:]
    for index, line in enumerate(lines):
        if _RULE.match(line) and any(
            "mailing list" in later.lower() or "unsubscribe" in later.lower()
            for later in lines[index + 1 : index + 4]
        ):
            return lines[:index], lines[index:]
    return lines, []


def split_reply(text: str) -> ReplyParts:
    """The new text, the quoted history and the signature of a plain-text message."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    visible: list[str] = []
    quoted: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _history_starts(lines, index):
            quoted.extend(lines[index:])
            break
        attribution = _on_wrote_length(lines, index)
        if attribution:
            quoted.extend(lines[index : index + attribution])
            index += attribution
            following = _next_content(lines, index)
            if following is not None and not _is_quoted(following):
                quoted.extend(lines[index:])
                break
            continue
        if _is_quoted(line):
            _take_attribution(visible, quoted)
            quoted.append(line)
        else:
            visible.append(line)
        index += 1
    body, signature = _split_signature(visible)
    new_text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in body)).strip()
    return ReplyParts(
        new_text=new_text,
        quoted="\n".join(quoted).strip("\n"),
        signature="\n".join(signature).strip(),
    )
