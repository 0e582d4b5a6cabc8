"""Shapes of the conversation API: conversations with their ticket, messages (replies, notes,
events), customers with their identities, and what an agent sends to change or answer one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from hub.config.settings import Priority
from hub.core.errors import invalid_field, too_many_files
from hub.db import models as rows
from hub.db.models import ConversationStatus, DeliveryState, Direction, TicketStatus
from hub.web.api.models.common import (
    Answer,
    Id,
    Lax,
    Names,
    Params,
    PathId,
    Reading,
    Says,
    Timestamp,
    WholeNumber,
    refused,
    settings_in,
    whole_range,
)
from hub.web.requests import MAX_ID

MAX_REPLY_CHARS = 65_536
STATUSES = Says("must be one of open, pending, snoozed, resolved")


class ConversationId(Params):
    id: Annotated[PathId, Names("conversation"), Field(description="conversation id")]


class CustomerId(Params):
    id: Annotated[PathId, Names("customer"), Field(description="customer id")]


class ConversationQuery(Params):
    status: Annotated[
        ConversationStatus | None, STATUSES, Field(description="only conversations in this status")
    ] = None
    assignee: Annotated[
        Annotated[str, Field(pattern="^(me|none|[0-9]+)$")] | None,
        Says("must be an agent id, me or none"),
        Field(description="an agent id, me, or none (unassigned)"),
    ] = None
    team: Annotated[
        Annotated[str, Field(min_length=1, max_length=64)] | None,
        Says("must be a team id or slug"),
        Field(description="a team id or slug"),
    ] = None
    limit: Annotated[int, Field(ge=1, le=100), WholeNumber, whole_range(1, 100)] = Field(
        25, description="page size"
    )
    cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None

    @field_validator("assignee")
    @classmethod
    def _agent_id(cls, value: str | None) -> str | None:
        if value not in (None, "me", "none") and (len(value) > 18 or int(value) > MAX_ID):
            raise ValueError("not an agent id")
        return value

    @field_validator("team")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("not printable")
        return value


class MessageQuery(Params):
    limit: Annotated[int, Field(ge=1, le=200), WholeNumber, whole_range(1, 200)] = Field(
        50, description="page size"
    )
    after: Annotated[int, Field(ge=0, le=MAX_ID), WholeNumber, whole_range(0, MAX_ID)] = Field(
        0, description="only messages with a larger id (next_after of the previous page)"
    )


class Conversation(Answer):
    id: Id
    customer_id: Id
    channel: str = Field(description="configured channel instance name")
    thread_key: str | None
    subject: str
    status: ConversationStatus
    priority: Priority
    team_id: Id | None
    assignee_id: Id | None
    created_at: Timestamp
    first_inbound_at: Timestamp | None
    first_response_at: Timestamp | None
    last_activity_at: Timestamp
    resolved_at: Timestamp | None


class Ticket(Answer):
    id: Id
    number: int
    subject: str
    status: TicketStatus
    priority: Priority
    category: str
    first_response_due_at: Timestamp | None
    resolution_due_at: Timestamp | None


class ConversationDetail(Conversation):
    ticket: Ticket | None
    reply_problem: str | None = Field(
        None, description="why replies through the conversation's channel cannot be delivered"
    )
    unassigned_reason: str | None = Field(
        None, description="why nobody has the conversation (null once assigned or closed)"
    )

    @classmethod
    def of(
        cls,
        conversation: rows.Conversation,
        ticket: rows.Ticket | None,
        *,
        reply_problem: str | None = None,
        unassigned_reason: str | None = None,
    ) -> Self:
        shown = Conversation.model_validate(conversation).model_dump()
        return cls(
            **shown,
            ticket=Ticket.model_validate(ticket) if ticket else None,
            reply_problem=reply_problem,
            unassigned_reason=unassigned_reason,
        )


class ConversationPage(Answer):
    items: list[Conversation]
    next_cursor: str | None


class ConversationChange(Reading):
    """Fields left out stay as they are."""

    status: Annotated[Lax[ConversationStatus] | SkipJsonSchema[None], STATUSES] = None
    priority: Annotated[
        Priority | SkipJsonSchema[None], Says("must be one of low, normal, high, urgent")
    ] = None
    assignee_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | None,
        Says("must be an agent id or null"),
        Field(description="null unassigns"),
    ] = None

    @field_validator("status", "priority")
    @classmethod
    def _not_null(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("null")
        return value


class Attachment(BaseModel):
    """Download: GET /api/v1/messages/{id}/attachments/{position}, position being the index in
    the message's attachments"""

    model_config = ConfigDict(extra="allow")

    filename: str
    content_type: str
    size: int = Field(ge=0)
    content_id: str | None = None
    inline: bool = False
    file_id: Id | SkipJsonSchema[None] = Field(
        None, description="set for files agents attached (uploads)"
    )


class Message(Answer):
    id: Id
    conversation_id: Id
    direction: Direction
    channel: str
    external_id: str | None
    author_agent_id: Id | None
    subject: str
    text: str
    html: str | None
    attachments: list[Attachment]
    automated: bool
    parse_error: str | None
    delivery_state: DeliveryState
    delivery_error: str | None = Field(
        description="why the last delivery attempt failed (and when it is retried)"
    )
    created_at: Timestamp


class MessagePage(Answer):
    items: list[Message]
    next_after: Id | None = Field(description="pass as ?after= for the next page")


class NewMessage(Reading):
    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["text"]}, {"required": ["attachments"]}]}
    )

    attachments: Annotated[
        list[Annotated[int, Field(ge=1, le=MAX_ID)]],
        Says("must be a list of file ids from POST /api/v1/uploads"),
        Field(
            max_length=50,
            json_schema_extra={"uniqueItems": True},
            description="ids from POST /api/v1/uploads (the caller's own, not yet attached); at "
            "most attachments.max_files",
        ),
    ] = Field(default_factory=list)
    text: Annotated[
        Annotated[str, Field(max_length=MAX_REPLY_CHARS)] | SkipJsonSchema[None],
        Says(
            "is required and must be a non-empty string",
            on={"string_too_long": f"is longer than {MAX_REPLY_CHARS} characters"},
        ),
        Field(
            json_schema_extra={"minLength": 1},
            description="required unless attachments are given",
        ),
    ] = None
    private: Annotated[bool, Says("must be true or false")] = Field(
        False, description="true: an internal note, sent to nobody"
    )

    @field_validator("attachments", mode="before")
    @classmethod
    def _at_most(cls, value: Any, info: ValidationInfo) -> Any:
        limit = settings_in(info.context).attachments.max_files
        if isinstance(value, list) and len(value) > limit and _ids(value):
            raise refused(too_many_files(limit))
        return value

    @field_validator("attachments")
    @classmethod
    def _once_each(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise refused(invalid_field("attachments", "lists the same file twice"))
        return value

    @field_validator("text")
    @classmethod
    def _not_null(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("null")
        return value

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if not ((self.text or "").strip() or self.attachments):
            raise refused(invalid_field("text", "is required and must be a non-empty string"))
        return self


def _ids(value: list[Any]) -> bool:
    return all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in value)


class Identity(Answer):
    id: Id
    kind: str = Field(examples=["email", "telegram", "slack", "api"])
    address: str
    display_name: str
    bouncing: bool


class Customer(Answer):
    id: Id
    name: str
    company: str
    tier: str
    tags: list[str]
    attributes: dict[str, Any]
    locale: str
    timezone: str
    preferred_channel: str | None
    consent: dict[str, Any]
    notes: str
    created_at: Timestamp
    last_contact_at: Timestamp | None
    identities: list[Identity]

    @classmethod
    def of(cls, customer: rows.Customer, identities: Iterable[rows.Identity]) -> Self:
        fields = {
            name: getattr(customer, name) for name in cls.model_fields if name != "identities"
        }
        return cls(**fields, identities=[Identity.model_validate(i) for i in identities])
