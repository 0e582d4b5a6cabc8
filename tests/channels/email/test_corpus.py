# ruff: noqa: RUF001  (the expected texts are non-ASCII on purpose)
"""The mail corpus (tests/fixtures/mail: real messages from talon, cpython and chatwoot, plus
the generated shapes): every file parses without an exception, and agents see the right text."""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.email.parse import parse_rfc822
from channels.email.quotes import split_reply
from tests.hub.email.conftest import MAIL, corpus

FILES = corpus()

# What an agent should see in the timeline, for a representative subset.
EXPECTED_TEXT = {
    "talon/android.eml": "Hello",
    "talon/apple_mail.eml": "Hello",
    "talon/gmail.eml": "Hello",
    "talon/hotmail.eml": "Hello",
    "talon/iphone.eml": "Hello",
    "talon/outlook.eml": "Hello",
    "talon/thunderbird.eml": "Hello",
    "talon/yahoo.eml": "Hello",
    "chatwoot/references.eml": "References Email",
    "generated/erp_email_gmail.eml": "This is a test for inbox replying to a github message.",
    "generated/erp_email_2_1.eml": "Outlook with a reply",
    "generated/erp_email_headers_no_delimiter.eml": "And another reply!",
    "generated/erp_email_BlackBerry.eml": "Here is another email",
    "generated/erp_email_1_3.eml": "Oh thanks.\n\nHaving the function would be great.\n\n"
    "-Abhishek Kona",
    "generated/erp_correct_sig.eml": "this is an email with a correct -- signature.",
    "generated/outlook_html_only.eml": "Hello team,\n\nOur invoice #4411 was charged twice."
    "\n\nRegards,\nJane",
    "generated/html_gmail_quote.eml": "Yes, please ship it.",
    "generated/apple_mail_text_image_text.eml": "Here is the photo:\n\nAnd the text after it.",
    "generated/latin1_declared_but_utf8.eml": "Café au lait, s'il vous plaît.",
    "generated/unknown_charset.eml": "Grüße aus Köln",
    "generated/missing_charset_cp1252.eml": "Price: 10€ – smart “quotes”",
    "generated/iso2022jp.eml": "こんにちは、注文について質問があります。",
    "generated/koi8r.eml": "Здравствуйте, у меня вопрос.",
    "generated/gb2312.eml": "你好，我的订单还没有到。",
    "generated/base64_bad_padding.eml": "Hello world",
    "generated/unterminated_multipart.eml": "The mail was cut off here",
    "generated/forwarded_inline_gmail.eml": "FYI, see below.",
}
EXPECTED_SUBJECT = {
    "generated/rfc2047_subjects.eml": "Prüfung der Rechnung für März",
    "generated/raw_utf8_headers.eml": "Señal perdida — ayuda",
    "generated/iso2022jp.eml": "こんにちは",
}


def test_the_corpus_has_at_least_fifty_messages() -> None:
    assert len(FILES) >= 50


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(MAIL)))
def test_every_message_parses_without_an_exception(path: Path) -> None:
    raw = path.read_bytes()
    message = parse_rfc822("mail", raw, own_addresses=frozenset({"support@relaydesk.local"}))
    details = message.raw["email"]
    assert details.raw == raw
    name = str(path.relative_to(MAIL))
    if name in EXPECTED_TEXT:
        assert message.text == EXPECTED_TEXT[name]
        assert message.parse_error is None
    if name in EXPECTED_SUBJECT:
        assert message.subject == EXPECTED_SUBJECT[name]
    for text in (message.text, message.subject or "", message.html or "", details.full_text):
        text.encode("utf-8")  # storable: no lone surrogates
        assert "\x00" not in text


def test_bounces_in_the_corpus_are_recognized() -> None:
    bounces = {
        str(p.relative_to(MAIL))
        for p in FILES
        if parse_rfc822("mail", p.read_bytes()).raw["email"].report is not None
    }
    assert bounces == {
        "cpython-test_email/msg_16.txt",
        "cpython-test_email/msg_25.txt",
        "cpython-test_email/msg_43.txt",
        "generated/dsn_gmail_style.eml",
        "generated/dsn_null_sender_mixed.eml",
        "generated/dsn_delayed.eml",
    }


def test_unusable_input_is_kept_and_flagged() -> None:
    for name in ("generated/not_mail_binary.eml", "generated/empty.eml", "generated/no_from.eml"):
        message = parse_rfc822("mail", (MAIL / name).read_bytes())
        assert message.parse_error and message.automated


def test_huge_attachments_are_capped() -> None:
    raw = (MAIL / "generated/huge_attachment.eml").read_bytes()
    [logs] = parse_rfc822("mail", raw, attachment_cap=1024 * 1024).attachments
    assert (logs.filename, logs.size, logs.content) == ("logs.bin", 3 * 1024 * 1024, None)


def test_reply_parts_of_the_talon_iphone_reply() -> None:
    expected = (MAIL / "talon/iphone_reply_text").read_text().strip()
    message = parse_rfc822("mail", (MAIL / "talon/iphone.eml").read_bytes())
    details = message.raw["email"]
    assert f"{message.text}\n\n{details.signature}" == expected


def test_inline_replies_keep_the_answers_between_quotes() -> None:
    parts = split_reply((MAIL / "email-reply-parser/email_1_2.txt").read_text())
    assert parts.new_text.startswith("Hi,\n\nYou can list the keys for the bucket")
    assert parts.new_text.endswith('you\u2019ll need to delete them all individually."')
    assert "riak-users mailing list" in parts.signature
    assert parts.quoted.startswith("On Tue, 2011-03-01 at 18:02 +0530, Abhishek Kona wrote:")
