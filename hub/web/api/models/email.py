"""Shapes of the email endpoints: the full mail behind a timeline entry, its attachments and
participants, the mailboxes' state, and a merge request."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, model_validator

from hub.core.errors import not_found
from hub.web.api.models.common import (
    Answer,
    Names,
    Params,
    PathId,
    Reading,
    Says,
    Timestamp,
    refused,
    whole_number,
)
from hub.web.requests import MAX_ID


class MessageId(Params):
    id: Annotated[PathId, Names("message"), Field(description="message id")]


class AttachmentAt(Params):
    id: Annotated[int, Field(ge=0, le=MAX_ID, description="message id")]
    position: Annotated[
        int, Field(ge=0, le=MAX_ID, description="index in the message's attachments")
    ]

    @model_validator(mode="before")
    @classmethod
    def _names_one(cls, raw: Any) -> Any:
        ident, position = raw.get("id", ""), raw.get("position", "")
        for value, what, shown in (
            (ident, "message", ident),
            (position, "attachment", f"{ident}/{position}"),
        ):
            try:
                number = whole_number(value)
            except ValueError:
                raise refused(not_found(what, shown)) from None
            if not isinstance(number, int) or number > MAX_ID:
                raise refused(not_found(what, shown))
        return raw


class MergeInto(Reading):
    into: Annotated[
        int,
        Says("is required: the id of the conversation to merge into"),
        Field(ge=0, le=MAX_ID, description="the conversation to merge into"),
    ]


class EmailAttachment(Answer):
    position: int
    filename: str
    content_type: str
    size: int
    content_id: str | None
    inline: bool
    stored: bool
    contains: list[Any]
    url: str | None = Field(description="where to download it; null when not kept")


class Email(Answer):
    message_id: int
    header_message_id: str
    mailbox: str
    sender: str = Field(alias="from")
    envelope_from: str | None
    envelope_to: list[str]
    recipients: dict[str, Any]
    new_text: str
    full_text: str
    quoted_text: str
    signature: str
    html: str | None = Field(description="sanitized")
    forwarded_from: str | None
    bounce: dict[str, Any] | None
    parse_error: str | None
    size: int
    headers: list[Any]
    attachments: list[EmailAttachment]
    raw_url: str
    received_at: Timestamp


class Participant(Answer):
    address: str
    name: str
    role: str


class Participants(Answer):
    items: list[Participant]


class Mailbox(Answer):
    channel: str
    source: str
    state: str
    detail: str
    last_error: str | None
    last_error_at: Timestamp | None
    connected_at: Timestamp | None
    last_message_at: Timestamp | None
    uidvalidity: int | None
    last_uid: int
    imported: int
    updated_at: Timestamp


class Mailboxes(Answer):
    items: list[Mailbox]
