"""Shapes of the notices API: a staff member's notices (read or not, with a link to what each
is about) and marking them read."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from hub.web.api.models.common import Answer, Id, Params, Reading, Says, Timestamp


class NoticeQuery(Params):
    state: Annotated[Literal["all", "unread"], Says("must be all or unread", as_field=True)] = "all"


class Notice(Answer):
    id: Id
    kind: str = Field(description="template_error, sla_warning, sla_escalation, mention, …")
    text: str
    conversation_id: Id | None
    link: str | None = Field(description="the page of what the notice is about")
    created_at: Timestamp
    read_at: Timestamp | None = Field(description="when the caller read it (null: unread)")


class NoticeList(Answer):
    items: list[Notice] = Field(description="newest first, at most 200")
    unread: int = Field(ge=0, description="the caller's unread notices in all")


class MarkRead(Reading):
    ids: Annotated[
        list[Id],
        Field(min_length=1, max_length=500),
        Says("must be a list of 1 to 500 notice ids"),
    ]


class Marked(Answer):
    marked: int = Field(ge=0, description="how many of them were unread")
    unread: int = Field(ge=0, description="the caller's unread notices left")
