"""Shapes of the campaign API: drafts, checks, previews, test sends, sending and scheduling,
progress and results."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from hub.web.api.models.common import Answer, Id, Names, Params, PathId, Reading, Says, Timestamp
from hub.web.requests import MAX_ID

TEXT = Says("must be a string")
KIND = Says("must be one of email, telegram, slack, web")
Kind = Literal["email", "telegram", "slack", "web", "widget"]


class CampaignId(Params):
    id: Annotated[PathId, Names("campaign"), Field(description="campaign id")]


class CampaignQuery(Params):
    state: Annotated[
        Literal["draft", "scheduled", "sending", "paused", "cancelled", "finished"]
        | SkipJsonSchema[None],
        Says("must be draft, scheduled, sending, paused, cancelled or finished"),
    ] = None
    limit: Annotated[int, Says("must be a whole number from 1 to 500"), Field(ge=1, le=500)] = 100
    offset: Annotated[
        int, Says("must be a whole number from 0 to 1000000"), Field(ge=0, le=1_000_000)
    ] = 0


class EmailContent(Reading):
    subject: Annotated[str, TEXT, Field(max_length=1000)] = ""
    html: Annotated[str, TEXT, Field(max_length=200_000)] = ""
    text: Annotated[str, TEXT, Field(max_length=100_000)] = ""


class ChatContent(Reading):
    text: Annotated[str, TEXT, Field(max_length=20_000)] = ""


class Content(Reading):
    """One variant per channel; Jinja2 (sandboxed) with ``customer.*`` and ``campaign.*``."""

    email: EmailContent | SkipJsonSchema[None] = None
    chat: ChatContent | SkipJsonSchema[None] = None


class NewCampaign(Reading):
    name: Annotated[str, TEXT, Field(max_length=200)]
    segment_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None], Says("must be a segment id")
    ] = None
    fallback: Annotated[
        list[str],
        Says("must be a list of channel kinds"),
        Field(
            max_length=8,
            description="identity kinds tried in order when the customer has no consented "
            "preferred channel: email, telegram, slack, web",
        ),
    ] = []
    content: Content = Content()


class CampaignChange(Reading):
    """What to change in a draft (or scheduled campaign); left-out fields stay."""

    name: Annotated[Annotated[str, Field(max_length=200)] | SkipJsonSchema[None], TEXT] = None
    segment_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None], Says("must be a segment id")
    ] = None
    fallback: Annotated[
        list[str] | SkipJsonSchema[None], Says("must be a list of channel kinds")
    ] = None
    content: Content | SkipJsonSchema[None] = None


class Campaign(Answer):
    id: Id
    name: str
    state: str = Field(description="draft, scheduled, sending, paused, cancelled, finished")
    segment_id: int | None
    fallback: list[str]
    content: dict[str, dict[str, str]]
    scheduled_at: Timestamp | None
    started_at: Timestamp | None
    finished_at: Timestamp | None
    recipient_count: int = Field(ge=0, description="recipients fixed when sending started")
    created_by: int | None
    created_at: Timestamp
    updated_at: Timestamp


class Listed(Answer):
    campaign: Campaign
    recipients: int = Field(ge=0)
    sent: int = Field(ge=0)
    failed: int = Field(ge=0)
    skipped: int = Field(ge=0)
    unconfirmed: int = Field(ge=0)
    pending: int = Field(ge=0, description="queued or being sent")


class Campaigns(Answer):
    items: list[Listed]


class Check(Answer):
    sendable: bool
    problems: dict[str, str] = Field(description="field -> what stops the campaign being sent")


class PreviewRequest(Reading):
    channel: Annotated[Kind, KIND] = "email"
    customer_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None], Says("must be a customer id")
    ] = None
    content: Annotated[
        Content | SkipJsonSchema[None],
        Field(description="unsaved content to preview (the editor's); the saved one if left out"),
    ] = None


class Preview(Answer):
    channel: str
    subject: str | None
    html: str | None
    text: str
    headers: dict[str, str]


class TestRequest(Reading):
    address: Annotated[
        Annotated[str, Field(max_length=320)] | SkipJsonSchema[None],
        TEXT,
        Field(description="where to send it; your own address if left out"),
    ] = None
    customer_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None], Says("must be a customer id")
    ] = None


class TestSent(Answer):
    ok: bool
    address: str
    channel: str
    error: str | None


class ScheduleRequest(Reading):
    scheduled_at: Annotated[
        str,
        TEXT,
        Field(
            max_length=40,
            description="ISO 8601 with its offset, in the future: 2026-12-24T09:00:00+01:00",
        ),
    ]


class Progress(Answer):
    campaign_id: Id
    state: str
    recipients: int = Field(ge=0)
    states: dict[str, int] = Field(description="recipients per state (pending = queued)")
    skipped: dict[str, int] = Field(description="skipped recipients per reason")
    channels: dict[str, dict[str, int]] = Field(description="per hub channel, per state")
    finished: bool = Field(
        description="sent + failed + skipped + unconfirmed + cancelled = recipients"
    )
    explanation: str


class Requeued(Answer):
    requeued: int = Field(ge=0)
    progress: Progress


class Counts(Answer):
    recipients: int
    queued: int
    sending: int
    sent: int
    failed: int
    skipped: int
    unconfirmed: int
    cancelled: int
    replied: int
    unsubscribed: int
    bounced: int
    skipped_by_reason: dict[str, int]


class ChannelCounts(Answer):
    channel: str | None
    counts: Counts


class Sends(Answer):
    start: Timestamp
    channel: str | None
    sent: int


class Activity(Answer):
    start: Timestamp
    sent: int
    replied: int
    unsubscribed: int
    bounced: int


class Results(Answer):
    campaign_id: Id
    finished: bool
    explanation: str
    total: Counts
    channels: list[ChannelCounts]
    over_time: list[Sends] = Field(description="messages sent per minute (or hour) and channel")
    activity: list[Activity] = Field(
        description="sent, replied, unsubscribed and bounced per minute (or hour)"
    )
