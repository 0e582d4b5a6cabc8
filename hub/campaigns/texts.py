"""Every text of the campaign engine a person can see: validation problems, skip reasons,
the unsubscribe footer, CLI lines; opt-out, bounces, replies and results."""

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


# The unsubscribe and preference pages
UNSUBSCRIBE_TITLE = "Unsubscribe"
UNSUBSCRIBE_QUESTION = "Stop receiving “{campaign}” and other news from us at {address}?"
UNSUBSCRIBE_BUTTON = "Unsubscribe"
UNSUBSCRIBED = "You are unsubscribed. You will get no more news from us at {address}."
ALREADY_UNSUBSCRIBED = "You were already unsubscribed from news at {address}."
BAD_LINK_TITLE = "This link does not work"
BAD_LINK = (
    "This unsubscribe link is not valid or has expired, so nothing was changed. "
    "Please use the link in our most recent message, or reply to it and we will help."
)
PREFERENCES_TITLE = "Your message preferences"
PREFERENCES_LEAD = "Choose where we may send you news. Support answers are not affected."
PREFERENCES_SAVED = "Your preferences are saved."
PREFERENCES_CSRF = "This form has expired or was not sent from our page. Please reload it."
PREFERENCES_BAD_CHANNEL = "Choose one of the channels listed."
PREFERENCES_NO_CHANNEL = "No preference"
PREFERENCES_SUPPRESSED = "Messages to this address could not be delivered, so we stopped using it."


# STOP words and the mailto: unsubscribe
STOP_SUBJECT = "Opted out of news"
STOP_CONFIRMATION = "You will get no more news from us here. Write to us any time if you need help."
STOP_EVENT = "Opted out of campaign messages on {channel} (replied “{text}”)"
MAILTO_EVENT = "Unsubscribed from campaign “{campaign}” by email"
OPT_OUT_NOTE = "replied “{text}” on {channel}"
MAILTO_NOTE = "unsubscribe email"
ONE_CLICK_NOTE = "unsubscribe link"

# Bounces and replies
BOUNCE_NOTE = "{kind} bounce: {status} {diagnostic}"
SOFT_LIMIT_NOTE = "{count} soft bounces in a row"
REPLY_EVENT = "Reply to campaign “{campaign}” (#{campaign_id})"

# Results
FINISHED = (
    "Finished: {sent} sent + {failed} failed + {skipped} skipped + {unconfirmed} "
    "unconfirmed + {cancelled} cancelled = {recipients} recipients."
)
NOT_FINISHED = (
    "Not finished: {accounted} of {recipients} recipients are accounted for "
    "({sent} sent, {failed} failed, {skipped} skipped, {unconfirmed} unconfirmed, "
    "{cancelled} cancelled); {queued} queued and {sending} sending."
)
UNCONFIRMED_HINT = (
    "{unconfirmed} recipients were being sent to when the hub stopped; it is not known "
    "whether they got the message. Retry them to send once more."
)
CHART_TITLE = "Messages sent over time"
ACTIVITY_CHART_TITLE = "Sent, replied, unsubscribed and bounced over time"
CHART_EMPTY = "Nothing sent yet"
NO_CHANNEL = "(none)"
