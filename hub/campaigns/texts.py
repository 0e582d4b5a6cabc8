"""Every text of the campaign engine a person can see: validation problems, skip reasons,
the unsubscribe footer, CLI lines."""

from __future__ import annotations

from collections.abc import Sequence

from channels.email.html_text import html_to_text as html_to_text

TEMPLATE_TOO_LONG = "the template is longer than {limit} characters"
CHAT_OPT_OUT = "Reply STOP to stop these messages."
TEST_SUBJECT = "[TEST] {subject}"

NAME_MISSING = "give the campaign a name (1-200 characters)"
SEGMENT_MISSING = "choose a segment"
NO_VARIANT = "write a message for {kinds}: the audience may be reached there"
VARIANT_EMPTY = "is empty"
SUBJECT_MISSING = "an email needs a subject"
UNKNOWN_KIND = "unknown channel kind {kind!r}; known: {known}"
REPEATED_KIND = "{kind} is listed twice"
NOT_DRAFT = "only a draft or scheduled campaign can be changed (this one is {state})"
CANNOT = "a {state} campaign cannot be {action}"
NOT_SCHEDULABLE = "must be a moment with a timezone in the future"
NO_TEST_CHANNEL = "no email channel is configured to send a test with"
NO_RECIPIENTS = "the segment has no customers to send to"
UNKNOWN_CONTENT = (
    "unknown part {part!r}; a campaign has email (subject, html, text) and chat (text)"
)

# Why a recipient was not sent to (campaign_recipients.skip_reason).
SKIP_REASONS = {
    "no_consent": "no consent on any channel the campaign uses",
    "opted_out": "opted out",
    "suppressed": "address suppressed (bounces)",
    "capped": "frequency cap reached",
    "no_channel": "no configured channel reaches the consented address",
    "render_failed": "the message did not render for this customer",
}


def at_line(line: int, problem: str) -> str:
    return f"line {line}: {problem}"


def unknown_name(name: str, known: Sequence[str]) -> str:
    return f"unknown name {name!r}; a template may use {', '.join(known)}"


def unknown_segment(segment_id: int) -> str:
    return f"segment {segment_id} does not exist"


def email_footer_text(unsubscribe: str, preferences: str) -> str:
    return (
        f"You receive this because you agreed to hear from us.\n"
        f"Unsubscribe: {unsubscribe}\nChoose channels: {preferences}"
    )


def email_footer_html(unsubscribe: str, preferences: str) -> str:
    return (
        '<p style="font-size:12px;color:#666">You receive this because you agreed to hear '
        f'from us. <a href="{unsubscribe}">Unsubscribe</a> · '
        f'<a href="{preferences}">Choose channels</a></p>'
    )
