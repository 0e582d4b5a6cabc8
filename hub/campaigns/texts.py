"""Every text a customer or marketer sees from opt-out, bounces, replies and results."""

from __future__ import annotations

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
