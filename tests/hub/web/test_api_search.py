"""Searching messages: the most relevant first with the words highlighted, only in
conversations the searcher may see, narrowed by filters, and in step with edits."""

from __future__ import annotations

from typing import Any

from hub.db.models import Role
from tests.support.agent_api import call, settled, start_conversation
from tests.support.desk import Desk


async def _search(desk: Desk, token: str, query: str) -> list[dict[str, Any]]:
    status, body = await call(desk.client, "GET", f"/api/v1/search?{query}", token)
    assert status == 200, body
    # Customer messages only (our acknowledgements greet and quote them).
    return [hit for hit in body["hits"] if hit["direction"] == "inbound"]


def _marked(hit: dict[str, Any]) -> list[str]:
    return [piece["text"].lower() for piece in hit["snippet"] if piece["mark"]]


async def test_an_agent_finds_the_most_relevant_message_with_the_words_highlighted(
    desk: Desk,
) -> None:
    _, token = await desk.agent("alice@example.com", capacity=0)
    passing = await start_conversation(
        desk.client,
        desk.hub,
        "s-1",
        "jane@example.com",
        "Hello. My printer is new. The delivery was fine, the box was fine, the manual is "
        "long, the cable is short and the colour is nice.",
    )
    focused = await start_conversation(
        desk.client, desk.hub, "s-2", "joe@example.com", "Printer jams. The printer jams again."
    )
    await settled(desk.hub)

    hits = await _search(desk, token, "q=printer")
    assert [hit["conversation_id"] for hit in hits] == [
        focused["conversation_id"],
        passing["conversation_id"],
    ]
    assert _marked(hits[0]) == ["printer", "printer"]
    assert hits[0]["customer_name"] and hits[0]["direction"] == "inbound"
    # The last word is a prefix: search as you type.
    assert {hit["conversation_id"] for hit in await _search(desk, token, "q=printer+jam")} == {
        focused["conversation_id"]
    }


async def test_nothing_from_a_team_the_agent_does_not_belong_to(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",), capacity=0)
    _, boss = await desk.agent("boss@example.com", role=Role.SUPERVISOR, teams=(), capacity=0)
    billing = await start_conversation(
        desk.client, desk.hub, "b-1", "tom@example.com", "I was charged twice for the parcel"
    )
    support = await start_conversation(
        desk.client, desk.hub, "s-1", "ann@example.com", "Where is my parcel?"
    )
    await settled(desk.hub)

    assert {hit["conversation_id"] for hit in await _search(desk, alice, "q=parcel")} == {
        support["conversation_id"]
    }
    seen = {hit["conversation_id"] for hit in await _search(desk, boss, "q=parcel")}
    assert seen == {billing["conversation_id"], support["conversation_id"]}


async def test_filters_narrow_the_hits_and_bad_filters_say_which(desk: Desk) -> None:
    _, boss = await desk.agent("boss@example.com", role=Role.ADMIN, teams=(), capacity=0)
    await start_conversation(
        desk.client, desk.hub, "s-1", "ann@example.com", "The parcel never came"
    )
    await settled(desk.hub)

    assert len(await _search(desk, boss, "q=parcel+never&channel=api")) == 1
    assert await _search(desk, boss, "q=parcel&channel=mail") == []
    assert await _search(desk, boss, "q=parcel&status=resolved") == []
    assert await _search(desk, boss, "q=parcel&until=2000-01-01") == []
    assert len(await _search(desk, boss, "q=parcel+never&since=2000-01-01")) == 1

    status, body = await call(desk.client, "GET", "/api/v1/search?q=parcel&since=soon", boss)
    assert status == 400 and "since" in str(body["error"])
    status, body = await call(desk.client, "GET", "/api/v1/search?q=", boss)
    assert status == 400 and "q" in str(body["error"])
    status, _ = await call(desk.client, "GET", "/api/v1/search?q=parcel", None)
    assert status == 401
