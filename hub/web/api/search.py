"""The search API: messages matching words, most relevant first, with highlighted snippets;
every hit is in a conversation the caller may see."""

from __future__ import annotations

from hub.agent.search import Hit, SearchFilters, search
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models import search as shapes

TAG = "Search"


def filters_of(params: shapes.SearchParams) -> SearchFilters:
    return SearchFilters.by_days(
        channel=params.channel or None,
        team_id=params.team_id,
        status=params.status,
        since=params.since,
        until=params.until,
    )


def hit_shape(hit: Hit) -> shapes.SearchHit:
    return shapes.SearchHit(
        message_id=hit.message_id,
        conversation_id=hit.conversation_id,
        customer_id=hit.customer_id,
        customer_name=hit.customer_name,
        channel=hit.channel,
        status=hit.status,
        direction=hit.direction,
        subject=hit.subject,
        created_at=hit.created_at,
        snippet=[shapes.SnippetPiece(text=text, mark=mark) for text, mark in hit.snippet],
    )


@endpoint(
    "GET",
    "/api/v1/search",
    Doc(
        TAG,
        "Search messages",
        "searchMessages",
        description="Messages (customer messages, replies and notes) that contain every word "
        "of q (the last word may be a prefix), in conversations the caller may see. The newest "
        "500 matches are ranked by relevance; dates are UTC days.",
        ok={200: "Ranked hits"},
        errors=(400, 401),
    ),
)
async def search_messages(call: Call, query: shapes.SearchParams) -> shapes.SearchResults:
    async with call.hub.db.reader() as session:
        page = await search(
            session,
            call.principal,
            query.q,
            filters_of(query),
            offset=query.offset,
            limit=query.limit,
        )
    return shapes.SearchResults(hits=[hit_shape(hit) for hit in page.hits], more=page.more)


ENDPOINTS: tuple[Endpoint, ...] = (search_messages,)
