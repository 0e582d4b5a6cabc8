"""Shapes of the audience API: saved segments, the preview of a definition (count and sample),
the CSV import's outcome, and consent per customer identity (current and history)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from hub.web.api.models.common import Answer, Id, Names, Params, PathId, Reading, Says, Timestamp
from hub.web.requests import MAX_ID

DEFINITION = Field(
    description='A filter in the customer filter language (docs/segments.md): {"all": [...]}, '
    '{"any": [...]}, {"not": {...}} or {"field": F, "op": OP, "value": V}',
    json_schema_extra={"type": "object"},
)
FILTER = Says("must be a filter object (see docs/segments.md)")
TEXT = Says("must be a string")


class SegmentId(Params):
    id: Annotated[PathId, Names("segment"), Field(description="segment id")]


class NewSegment(Reading):
    name: Annotated[str, TEXT, Field(max_length=200)]
    description: Annotated[str, TEXT, Field(max_length=2000)] = ""
    definition: Annotated[
        dict[str, Any] | SkipJsonSchema[None],
        FILTER,
        Field(
            description="The filter; leave it out for a segment that holds only the customers "
            "imported into it"
        ),
    ] = None


class SegmentChange(Reading):
    name: Annotated[Annotated[str, Field(max_length=200)] | SkipJsonSchema[None], TEXT] = None
    description: Annotated[Annotated[str, Field(max_length=2000)] | SkipJsonSchema[None], TEXT] = (
        None
    )
    definition: Annotated[dict[str, Any] | SkipJsonSchema[None], FILTER, DEFINITION] = None


class Draft(Reading):
    definition: Annotated[dict[str, Any], FILTER, DEFINITION]


class Segment(Answer):
    id: Id
    name: str
    description: str
    definition: dict[str, Any]
    origin: str = Field(description="marketer, import or insight")
    count: int = Field(ge=0, description="customers the segment selects now")
    static_members: int = Field(ge=0, description="customers imported into it")
    created_at: Timestamp
    updated_at: Timestamp


class Segments(Answer):
    items: list[Segment]


class Address(Answer):
    kind: str
    address: str


class Member(Answer):
    id: Id
    name: str
    tier: str
    tags: list[str]
    identities: list[Address]


class Preview(Answer):
    count: int = Field(ge=0, description="customers the definition selects (one SQL COUNT)")
    sample: list[Member] = Field(description="the first 20 by id")


class Imported(Answer):
    rows: int = Field(ge=0)
    created: int = Field(ge=0, description="new customers")
    updated: int = Field(ge=0, description="known customers (matched by address) updated")
    added_to_segment: int = Field(ge=0)
    consents_recorded: int = Field(ge=0)
    segment: Segment


class CsvFile(RootModel[str]):
    """A CSV file: the first line names the columns (docs/segments.md)."""


class CustomerId(Params):
    id: Annotated[PathId, Names("customer"), Field(description="customer id")]


class ConsentChange(Reading):
    identity: Annotated[int, Says("must be the id of one of the customer's identities")] = Field(
        ge=1, le=MAX_ID, description="an identity id of this customer (GET lists them)"
    )
    state: Annotated[Literal["granted", "revoked"], Says("must be granted or revoked")]
    note: Annotated[str, TEXT, Field(max_length=500)] = ""


class ConsentNow(Answer):
    identity_id: Id
    kind: str
    address: str
    state: str | None = Field(description="granted, revoked, suppressed; null: never asked")
    source: str | None
    changed_at: Timestamp | None


class ConsentEvent(Answer):
    identity_id: Id
    kind: str
    state: str
    source: str = Field(description="form, import, api, agent, unsubscribe, preferences, ...")
    agent_id: int | None
    campaign_id: int | None
    note: str
    created_at: Timestamp


class Consents(Answer):
    customer_id: Id
    current: list[ConsentNow]
    history: list[ConsentEvent] = Field(description="oldest first")
