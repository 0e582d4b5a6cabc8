"""Shapes of the search API: the query with its filters, and ranked hits with their
highlighted snippets as text pieces (never HTML)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from hub.agent.search import RANK_WINDOW
from hub.db.models import ConversationStatus, Direction
from hub.web.api.models.common import Answer, Id, Params, Says, Timestamp, WholeNumber, whole_range
from hub.web.requests import MAX_ID


class SearchParams(Params):
    q: Annotated[
        str,
        Field(min_length=1, max_length=200, description="words to find; the last may be a prefix"),
        Says("must be 1 to 200 characters"),
    ]
    channel: Annotated[
        str | None, Field(max_length=64, description="only messages of this channel")
    ] = None
    team_id: Annotated[
        int | None,
        Field(ge=1, le=MAX_ID, description="only conversations of this team"),
        WholeNumber,
        whole_range(1, MAX_ID),
    ] = None
    status: Annotated[
        ConversationStatus | None,
        Says("must be one of open, pending, snoozed, resolved"),
        Field(description="only conversations in this status"),
    ] = None
    since: Annotated[
        date | None, Says("must be a date (YYYY-MM-DD)"), Field(description="from this day")
    ] = None
    until: Annotated[
        date | None,
        Says("must be a date (YYYY-MM-DD)"),
        Field(description="up to and including this day"),
    ] = None
    offset: Annotated[
        int, Field(ge=0, le=RANK_WINDOW), WholeNumber, whole_range(0, RANK_WINDOW)
    ] = Field(0, description="hits to skip")
    limit: Annotated[int, Field(ge=1, le=50), WholeNumber, whole_range(1, 50)] = Field(
        20, description="page size"
    )


class SnippetPiece(Answer):
    text: str
    mark: bool = Field(description="true where the text matched the query")


class SearchHit(Answer):
    message_id: Id
    conversation_id: Id
    customer_id: Id
    customer_name: str
    channel: str
    status: ConversationStatus
    direction: Direction
    subject: str
    created_at: Timestamp
    snippet: list[SnippetPiece]


class SearchResults(Answer):
    hits: list[SearchHit]
    more: bool = Field(description="more hits follow (raise offset)")
