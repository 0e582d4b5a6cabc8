"""Parsing is cheaper than it was (one pass with the compat32 policy, the modern policy only for
the headers whose meaning needs it) and reads every mail the same: for each message of the
corpus, what users see (subject, sender, text, sanitized HTML, attachments, threading headers,
the stored header list, the bounce report) equals what the former parser (every header through
``policy.default``) produced, kept in parsed_corpus.json.

After a deliberate change to what the parser produces, regenerate the file with
``RELAYDESK_UPDATE_PARSED=1 pytest tests/channels/email/test_parse_stable.py`` and review the
diff."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels.email import mime
from channels.email.parse import ParsedEmail, parse_rfc822
from hub.core.sanitize import sanitize_html
from tests.hub.email.conftest import MAIL, corpus

SNAPSHOT = Path(__file__).with_name("parsed_corpus.json")
OWN = frozenset({"support@relaydesk.local"})


def seen(raw: bytes) -> dict[str, Any]:
    """What users and threading see of one parsed mail (JSON-comparable)."""
    message = parse_rfc822("mail", raw, own_addresses=OWN, attachment_cap=1024 * 1024)
    details = message.raw["email"]
    assert isinstance(details, ParsedEmail)
    report = details.report
    received = message.received_at
    recent = abs(datetime.now(UTC) - received) < timedelta(hours=1)  # no usable Date: "now"
    return {
        "subject": message.subject,
        "from": [message.sender.address, message.sender.name],
        "text": message.text,
        "html_sanitized": sanitize_html(message.html) if message.html else None,
        "html": details.html,
        "full_text": details.full_text,
        "quoted": details.quoted,
        "signature": details.signature,
        "attachments": [
            {
                "filename": a.filename,
                "content_type": a.content_type,
                "size": a.size,
                "sha256": hashlib.sha256(a.content).hexdigest() if a.content is not None else None,
                "content_id": a.content_id,
                "inline": a.inline,
            }
            for a in message.attachments
        ],
        "message_id": message.external_id,
        "thread_key": message.thread_key,
        "reply_to_ids": list(message.reply_to_ids),
        "tokens": list(details.tokens),
        "ticket_numbers": list(details.ticket_numbers),
        "to": [list(p) for p in details.to],
        "cc": [list(p) for p in details.cc],
        "reply_to": [list(p) for p in details.reply_to],
        "forwarded_from": details.forwarded_from,
        "headers": [list(p) for p in details.headers],
        "received_at": None if recent else received.isoformat(),
        "automated": message.automated,
        "parse_error": message.parse_error,
        "defects": list(details.defects),
        "tnef": [[i, [[f.filename, f.size] for f in files]] for i, files in details.tnef],
        "report": None
        if report is None
        else {
            "recipients": [
                [r.address, r.action, r.status, r.diagnostic] for r in report.recipients
            ],
            "original_message_ids": list(report.original_message_ids),
            "reporting_mta": report.reporting_mta,
        },
    }


def _snapshot() -> dict[str, Any]:
    return {str(p.relative_to(MAIL)): seen(p.read_bytes()) for p in corpus()}


def test_every_corpus_message_reads_as_it_did() -> None:
    current = _snapshot()
    if os.environ.get("RELAYDESK_UPDATE_PARSED"):
        SNAPSHOT.write_text(json.dumps(current, indent=1, ensure_ascii=False, sort_keys=True))
    expected = json.loads(SNAPSHOT.read_text())
    assert sorted(current) == sorted(expected)
    for name, fields in current.items():
        assert json.loads(json.dumps(fields)) == expected[name], name


def _modern(raw: bytes, name: str) -> str:
    """The reference: the header as ``policy.default`` reads it, cleaned as mime.header does
    (a header the modern parser fails on reads as empty, as it did before)."""
    try:
        value = BytesParser(policy=policy.default).parsebytes(raw).get(name)
    except Exception:
        return ""
    return mime.finish_header(str(value)) if value is not None else ""


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=40
).map(lambda s: s.replace("\r", "").replace("\n", ""))
_WORD = st.sampled_from(
    [
        "=?utf-8?q?Pr=C3=BCfung?=",
        "=?iso-8859-1?B?SGFsbG8=?=",
        "=?unknown-8bit?q?caf=E9?=",
        "=?utf-8?q?Doe=2C_Jane?=",
        '"Doe, Jane"',
        "(comment)",
        "<jane@example.com>",
        "jane@example.com",
        ",",
        ";",
        "=?",
        "\r\n ",
    ]
)
_VALUE = st.lists(st.one_of(_TEXT, _WORD), max_size=8).map(" ".join)
_NAME = st.sampled_from(
    ["Subject", "From", "To", "Cc", "Reply-To", "X-Custom", "In-Reply-To", "References", "Date"]
)


@settings(max_examples=300, deadline=None)
@given(name=_NAME, value=_VALUE)
def test_a_header_reads_as_the_modern_policy_reads_it(name: str, value: str) -> None:
    raw = f"{name}: {value}\r\nX-Other: 1\r\n\r\nbody\r\n".encode("utf-8", "surrogateescape")
    mail = BytesParser(policy=policy.compat32).parsebytes(raw)
    assert mime.header(mail, name) == _modern(raw, name)
    assert mime.Headers(mail).get(name) == _modern(raw, name)


@pytest.mark.parametrize("path", corpus(), ids=lambda p: str(p.relative_to(MAIL)))
def test_every_corpus_header_reads_as_the_modern_policy_reads_it(path: Path) -> None:
    raw = path.read_bytes()
    mail = BytesParser(policy=policy.compat32).parsebytes(raw)
    headers = mime.Headers(mail)
    for name in {key.lower() for key in mail}:
        assert headers.get(name) == _modern(raw, name), name


# Well-formed values of the headers whose parse is skipped (mime._VERBATIM, Content-Type,
# Date), and values close to them that must still go through the parser.
_SHAPED = st.one_of(
    *(
        st.tuples(st.just(name), st.from_regex(pattern, fullmatch=True).filter(str.isascii))
        for name, pattern in mime._VERBATIM.items()
    ),
    st.tuples(st.just("content-type"), st.from_regex(mime._CONTENT_TYPE, fullmatch=True)).filter(
        lambda pair: pair[1].isascii()
    ),
    st.tuples(
        st.sampled_from(["Date", "Content-Type", "From", "To", "Message-ID", "MIME-Version"]),
        st.lists(
            st.sampled_from(
                [
                    "Mon, 05 Jan 2026",
                    "5 Jan 2026",
                    " 09:00:00",
                    " +0000",
                    " -0000",
                    " (UTC)",
                    "text/plain",
                    "; charset=",
                    '"utf-8"',
                    "utf-8",
                    ";",
                    "*",
                    "'",
                    "=",
                    "a",
                    " ",
                    "<a@b.c>",
                    "a@b.c",
                    "Jane Doe ",
                    ", ",
                    ".",
                    '"',
                    "\\",
                    "(c)",
                    "1.0",
                ]
            ),
            max_size=6,
        ).map("".join),
    ),
)


@settings(max_examples=500, deadline=None)
@given(pair=_SHAPED)
def test_a_header_read_without_the_parser_reads_as_the_modern_policy_reads_it(
    pair: tuple[str, str],
) -> None:
    name, value = pair
    raw = f"{name}: {value}\r\nX-Other: 1\r\n\r\nbody\r\n".encode()
    mail = BytesParser(policy=policy.compat32).parsebytes(raw)
    assert mime.Headers(mail).get(name) == _modern(raw, name)
