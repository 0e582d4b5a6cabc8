"""Shapes of the customer directory API: the search query and its page, the full profile
(identities, timeline, ratings, audit trail), an audited edit, the CSV import's report and the
insight lists."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel

from hub.crm.directory import CONTACTS, SEARCH_KEYS, SORTS, Contact, OpenTickets, SearchKey, Sort
from hub.crm.texts import ATTRIBUTE_VALUE_PROBLEM
from hub.web.api.models.common import (
    Answer,
    Id,
    Names,
    Params,
    Reading,
    Says,
    Timestamp,
    WholeNumber,
    whole_range,
)
from hub.web.api.models.conversations import Identity

AttributeValue = str | int | float | bool


def _one_of(values: tuple[str, ...]) -> Says:
    return Says("must be one of " + ", ".join(values))


class DirectoryParams(Params):
    q: Annotated[
        str,
        Field(max_length=200, description="search text (a prefix)"),
        Says("200 characters at most"),
    ] = ""
    by: Annotated[
        SearchKey,
        _one_of(SEARCH_KEYS),
        Field(description="what q is: any (name, company, email, phone, handle or tag), or one"),
    ] = "any"
    tier: Annotated[str | None, Field(max_length=32, description="only this tier")] = None
    tag: Annotated[str | None, Field(max_length=64, description="only customers with this tag")] = (
        None
    )
    contact: Annotated[
        Contact,
        _one_of(CONTACTS),
        Field(description="last contact within 7/30/90 days, silent for 30/90 days, or never"),
    ] = "any"
    open_tickets: Annotated[
        OpenTickets, _one_of(("any", "some", "none")), Field(description="with open tickets or not")
    ] = "any"
    sort: Annotated[Sort, _one_of(SORTS), Field(description="order; - for descending")] = "name"
    offset: Annotated[int, Field(ge=0, le=1_000_000), WholeNumber, whole_range(0, 1_000_000)] = (
        Field(0, description="rows to skip")
    )
    limit: Annotated[int, Field(ge=1, le=500), WholeNumber, whole_range(1, 500)] = Field(
        50, description="page size"
    )


class CustomerSummary(Answer):
    id: Id
    name: str
    company: str
    tier: str
    tags: list[str]
    email: str | None = Field(description="the first email address")
    open_tickets: int
    last_contact_at: Timestamp | None
    created_at: Timestamp


class CustomerPage(Answer):
    items: list[CustomerSummary]
    total: int = Field(description="matching customers (counted up to 1000)")
    more: bool = Field(description="more than 1000 match")
    next_offset: int | None = Field(description="offset of the next page; null on the last")


class TimelineEntry(Answer):
    conversation_id: Id
    visible: bool = Field(description="the caller may open the conversation")
    channel: str
    status: str
    subject: str = Field(description="empty when not visible")
    started_at: Timestamp
    last_activity_at: Timestamp
    ticket_number: int | None
    ticket_status: str | None
    ticket_priority: str | None


class Rating(Answer):
    conversation_id: Id
    score: int
    via: str
    created_at: Timestamp


class Change(Answer):
    field: str = Field(examples=["tier", "tags", "attribute.plan", "notes"])
    old_value: str
    new_value: str
    source: str = Field(examples=["edit", "api", "import"])
    agent_id: int | None
    by: str
    created_at: Timestamp


class Consent(Answer):
    kind: str
    address: str
    state: str = Field(examples=["granted", "revoked", "suppressed", "unknown"])
    source: str | None
    changed_at: Timestamp | None


class CampaignResponse(Answer):
    campaign_id: Id
    campaign: str
    channel: str
    state: str
    replied: bool
    at: Timestamp | None


class CustomerProfile(Answer):
    id: Id
    name: str
    company: str
    tier: str
    tags: list[str]
    attributes: dict[str, Any]
    locale: str
    timezone: str
    notes: str
    created_at: Timestamp
    last_contact_at: Timestamp | None
    open_tickets: int
    editable: bool = Field(description="the caller may edit this profile")
    identities: list[Identity]
    timeline: list[TimelineEntry]
    ratings: list[Rating]
    consents: list[Consent]
    campaigns: list[CampaignResponse]
    changes: list[Change] = Field(description="audit trail, newest first")


class CustomerPatch(Reading):
    """Fields left out stay as they are. ``attributes`` sets the given keys; null removes one."""

    name: Annotated[str, Field(max_length=300)] | None = None
    company: Annotated[str, Field(max_length=300)] | None = None
    tier: Annotated[str, Field(max_length=32)] | None = None
    tags: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=50)] | None = None
    notes: Annotated[str, Field(max_length=20_000)] | None = None
    attributes: Annotated[
        Annotated[dict[str, AttributeValue | None], Field(max_length=100)] | None,
        Says(ATTRIBUTE_VALUE_PROBLEM + " (100 keys at most)"),
    ] = None


class CustomerCsv(RootModel[str]):
    """CSV text: a header line naming columns (id, name, company, tier, tags, email, phone,
    telegram, slack, locale, timezone, attributes as a JSON object, notes, or attribute.KEY),
    then one customer per line; several tags or addresses in one cell are separated by ;."""


class ImportQuery(Params):
    dry_run: Annotated[
        Literal["true", "false"], Says("must be true or false"), Field(description="check only")
    ] = "false"


class ImportReport(Answer):
    created: int
    updated: int
    dry_run: bool


class InsightName(Params):
    name: Annotated[
        str,
        Field(pattern="^[a-z][a-z-]{0,63}$", description="insight list name"),
        Names("insight list"),
    ]


class Insight(Answer):
    name: str = Field(examples=["most-active", "repeated-complaints", "churn-risk"])
    title: str
    description: str
    definition: dict[str, Any] = Field(description="in the customer filter language")
    metric: str = Field(description="what value means in the rows")


class InsightList(Answer):
    items: list[Insight]


class InsightRow(Answer):
    customer: CustomerSummary
    value: float | None


class InsightPage(Answer):
    insight: Insight
    items: list[InsightRow]


class NewSegment(Reading):
    name: Annotated[
        str, Field(min_length=1, max_length=200), Says("is required (200 characters at most)")
    ]


class Segment(Answer):
    id: Id
    name: str
    description: str
    definition: dict[str, Any]
    origin: str
    created_at: Timestamp
