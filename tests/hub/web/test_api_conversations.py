"""The agent API on conversations: who may see and change what, PATCH of status, assignee and
priority with true agent load counts, list filters, and keyset pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from hub.core.conversations import ACTIVE
from hub.core.staff import token_digest
from hub.db.models import Agent, ApiToken, Conversation, Presence, Role
from hub.platform.clock import ManualClock
from tests.support.agent_api import call, db_state, settled, start_conversation
from tests.support.desk import Desk, MakeDesk


async def _people(desk: Desk) -> dict[str, tuple[int, str]]:
    """Online agents with no spare capacity: routing assigns them nothing by itself (and does not
    take conversations away from them), so every assignment in these tests is made by a PATCH."""

    async def person(name: str, role: Role = Role.AGENT, *teams: str) -> tuple[int, str]:
        return await desk.agent(f"{name}@example.com", role=role, teams=teams, capacity=0)

    return {
        "alice": await person("alice", Role.AGENT, "support"),
        "carol": await person("carol", Role.AGENT, "support"),
        "bob": await person("bob", Role.AGENT, "billing"),
        "sue": await person("sue", Role.SUPERVISOR),
        "mark": await person("mark", Role.MARKETER),
    }


async def _ids(desk: Desk, token: str, query: str = "") -> list[int]:
    status, body = await call(desk.client, "GET", f"/api/v1/conversations{query}", token)
    assert status == 200, body
    assert body["next_cursor"] is None
    return [item["id"] for item in body["items"]]


async def test_agents_see_their_team_supervisors_all_marketers_none(desk: Desk) -> None:
    people = await _people(desk)
    support = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "My parcel is late."
    )
    billing = await start_conversation(
        desk.client, desk.hub, "b-1", "joe@example.com", "I want a refund."
    )
    support_id, billing_id = support["conversation_id"], billing["conversation_id"]

    assert await _ids(desk, people["alice"][1]) == [support_id]
    assert await _ids(desk, people["bob"][1]) == [billing_id]
    assert await _ids(desk, people["sue"][1]) == [billing_id, support_id]
    status, error = await call(desk.client, "GET", "/api/v1/conversations", people["mark"][1])
    assert status == 403 and error["error"]["code"] == "forbidden"
    status, _ = await call(
        desk.client, "GET", f"/api/v1/conversations/{support_id}", people["mark"][1]
    )
    assert status == 404

    # Once assigned to bob, the support conversation is his to see too.
    status, body = await call(
        desk.client,
        "PATCH",
        f"/api/v1/conversations/{support_id}",
        people["sue"][1],
        {"assignee_id": people["bob"][0]},
    )
    assert (status, body["assignee_id"]) == (200, people["bob"][0])
    assert await _ids(desk, people["bob"][1]) == [support_id, billing_id]


async def test_a_foreign_conversation_is_404_everywhere_and_unchanged(desk: Desk) -> None:
    people = await _people(desk)
    started = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "My parcel is late."
    )
    path = f"/api/v1/conversations/{started['conversation_id']}"
    bob = people["bob"][1]
    before = await settled(desk.hub)

    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/messages", None),
        ("PATCH", "", {"status": "resolved"}),
        ("PATCH", "", {"assignee_id": people["bob"][0]}),
        ("POST", "/messages", {"text": "Not my customer, but hello."}),
        ("POST", "/messages", {"text": "A note", "private": True}),
    ]:
        status, error = await call(desk.client, method, path + suffix, bob, body)
        assert status == 404, (method, suffix, error)
        assert error["error"]["code"] == "not_found"
        assert str(started["conversation_id"]) in error["error"]["message"]
    assert await db_state(desk.hub) == before


async def test_agents_take_free_or_abandoned_work_supervisors_assign_anyone(
    desk: Desk,
) -> None:
    people = await _people(desk)
    started = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "My parcel is late."
    )
    path = f"/api/v1/conversations/{started['conversation_id']}"
    (alice_id, alice), (carol_id, carol) = people["alice"], people["carol"]
    before = await settled(desk.hub)

    status, error = await call(desk.client, "PATCH", path, alice, {"assignee_id": carol_id})
    assert status == 403 and error["error"]["code"] == "forbidden"
    assert await db_state(desk.hub) == before

    status, body = await call(desk.client, "PATCH", path, alice, {"assignee_id": alice_id})
    assert (status, body["assignee_id"]) == (200, alice_id)
    # Carol may neither unassign Alice nor take the conversation while Alice is online ...
    before = await db_state(desk.hub)
    status, _ = await call(desk.client, "PATCH", path, carol, {"assignee_id": None})
    assert status == 403
    status, error = await call(desk.client, "PATCH", path, carol, {"assignee_id": carol_id})
    assert status == 403 and "supervisor" in error["error"]["message"]
    assert await db_state(desk.hub) == before
    # ... but once Alice is offline, Carol may take it over; she may not hand it back.
    async with desk.hub.db.writer() as session:
        await session.execute(
            update(Agent).where(Agent.id == alice_id).values(presence=Presence.OFFLINE)
        )
        await session.commit()
    status, body = await call(desk.client, "PATCH", path, carol, {"assignee_id": carol_id})
    assert (status, body["assignee_id"]) == (200, carol_id)
    status, _ = await call(desk.client, "PATCH", path, carol, {"assignee_id": alice_id})
    assert status == 403
    status, body = await call(desk.client, "PATCH", path, carol, {"assignee_id": None})
    assert (status, body["assignee_id"]) == (200, None)
    status, body = await call(desk.client, "PATCH", path, alice, {"assignee_id": alice_id})
    assert (status, body["assignee_id"]) == (200, alice_id)
    status, body = await call(desk.client, "PATCH", path, alice, {"assignee_id": None})
    assert (status, body["assignee_id"]) == (200, None)

    status, body = await call(
        desk.client, "PATCH", path, people["sue"][1], {"assignee_id": carol_id}
    )
    assert (status, body["assignee_id"]) == (200, carol_id)
    # Nobody can be given a conversation whose role cannot handle one.
    before = await db_state(desk.hub)
    status, error = await call(
        desk.client, "PATCH", path, people["sue"][1], {"assignee_id": people["mark"][0]}
    )
    assert status == 422 and error["error"]["fields"].keys() == {"assignee_id"}
    assert await db_state(desk.hub) == before


async def _loads(desk: Desk) -> dict[int, tuple[int, int]]:
    """Per agent: (open_count as stored, active conversations actually assigned)."""
    async with desk.hub.db.reader() as session:
        stored = {
            agent: count
            for agent, count in await session.execute(select(Agent.id, Agent.open_count))
        }
        rows = await session.execute(
            select(Conversation.assignee_id, func.count())
            .where(Conversation.status.in_(ACTIVE), Conversation.assignee_id.is_not(None))
            .group_by(Conversation.assignee_id)
        )
        actual = {agent: count for agent, count in rows}
    return {agent: (count, actual.get(agent, 0)) for agent, count in stored.items()}


async def test_patch_keeps_agent_load_true(desk: Desk) -> None:
    people = await _people(desk)
    (alice_id, alice), (carol_id, _), sue = people["alice"], people["carol"], people["sue"][1]
    started = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "Hi", thread_key="T-1"
    )
    conversation_id = started["conversation_id"]
    path = f"/api/v1/conversations/{conversation_id}"

    async def patch(token: str, change: dict[str, Any], alice_load: int, carol_load: int) -> Any:
        status, body = await call(desk.client, "PATCH", path, token, change)
        assert status == 200, body
        loads = await _loads(desk)
        assert all(stored == actual for stored, actual in loads.values()), loads
        assert (loads[alice_id][0], loads[carol_id][0]) == (alice_load, carol_load), change
        return body

    await patch(alice, {"assignee_id": alice_id}, 1, 0)
    resolved = await patch(alice, {"status": "resolved"}, 0, 0)
    assert resolved["status"] == "resolved" and resolved["resolved_at"] is not None
    reopened = await patch(alice, {"status": "open"}, 1, 0)
    assert reopened["resolved_at"] is None
    await patch(alice, {"status": "pending"}, 1, 0)
    await patch(alice, {"status": "snoozed"}, 1, 0)
    await patch(sue, {"assignee_id": carol_id}, 0, 1)
    await patch(sue, {"assignee_id": alice_id, "status": "resolved"}, 0, 0)
    await patch(sue, {"status": "open", "assignee_id": carol_id}, 0, 1)
    await patch(sue, {"status": "resolved"}, 0, 0)

    # The customer writes again in the same thread: the conversation reopens for Carol.
    again = await start_conversation(
        desk.client, desk.hub, "s-2", "jane@example.com", "Still there?", thread_key="T-1"
    )
    assert again["conversation_id"] == conversation_id
    loads = await _loads(desk)
    assert loads[carol_id] == (1, 1) and loads[alice_id] == (0, 0)

    final = await patch(sue, {"assignee_id": None, "priority": "urgent"}, 0, 0)
    assert (final["assignee_id"], final["priority"], final["status"]) == (None, "urgent", "open")
    status, shown = await call(desk.client, "GET", path, alice)
    assert status == 200
    detail_only = ("ticket", "reply_problem", "unassigned_reason")
    assert {k: v for k, v in shown.items() if k not in detail_only} == final
    assert shown["ticket"]["number"] >= 1000

    status, listed = await call(desk.client, "GET", path + "/messages?limit=200", alice)
    events = [m["text"] for m in listed["items"] if m["direction"] == "event"]
    assert "Assigned to Carol" in events and "Status changed to resolved" in events
    assert events[-2] == "Unassigned"
    assert events[-1].startswith("Priority changed to urgent; next SLA deadline")
    assert shown["ticket"]["priority"] == "urgent"


async def test_filters_and_keyset_pagination(make_desk: MakeDesk) -> None:
    """Many conversations share a last_activity_at (a manual clock), so pages must break ties
    by id; a conversation arriving mid-way must not shift later pages."""
    clock = ManualClock()
    desk = await make_desk(clock)
    client = desk.client
    people = await _people(desk)
    (alice_id, alice), (carol_id, _), sue = people["alice"], people["carol"], people["sue"][1]

    ids: list[int] = []
    for n in range(13):
        if n % 3 == 0:
            clock.advance(timedelta(minutes=1))
        text = "Please refund me." if n % 4 == 0 else "Question."
        result = await start_conversation(client, desk.hub, f"m-{n}", f"c{n}@example.com", text)
        ids.append(result["conversation_id"])
    billing = [ids[n] for n in range(13) if n % 4 == 0]
    for conversation_id, change in [
        (ids[1], {"assignee_id": alice_id}),
        (ids[2], {"assignee_id": alice_id, "status": "resolved"}),
        (ids[5], {"assignee_id": carol_id}),
        (ids[7], {"status": "resolved"}),
    ]:
        status, _ = await call(
            client, "PATCH", f"/api/v1/conversations/{conversation_id}", sue, change
        )
        assert status == 200

    everything = await _ids(desk, sue, "?limit=100")
    assert sorted(everything) == sorted(ids)
    async with desk.hub.db.reader() as session:
        order = {
            c.id: (c.last_activity_at, c.id) for c in (await session.scalars(select(Conversation)))
        }
    assert everything == sorted(ids, key=lambda i: order[i], reverse=True)
    assert len({order[i][0] for i in ids}) < len(ids)  # there are ties to break

    pages: list[int] = []
    cursor = None
    while True:
        query = "?limit=4" + (f"&cursor={cursor}" if cursor else "")
        status, page = await call(client, "GET", f"/api/v1/conversations{query}", sue)
        assert status == 200 and len(page["items"]) <= 4
        pages += [item["id"] for item in page["items"]]
        if len(pages) == 4:  # a newer conversation arrives between pages
            clock.advance(timedelta(minutes=1))
            await start_conversation(client, desk.hub, "late", "late@example.com", "Hi")
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == everything

    def expect(predicate: Any) -> list[int]:
        return [i for i in everything if predicate(i)]

    assert await _ids(desk, sue, "?status=resolved") == [ids[7], ids[2]]
    assert await _ids(desk, sue, "?team=billing") == expect(lambda i: i in billing)
    async with desk.hub.db.reader() as session:
        billing_team = await session.scalar(
            select(Conversation.team_id).where(Conversation.id == billing[0])
        )
    assert await _ids(desk, sue, f"?team={billing_team}") == expect(lambda i: i in billing)
    assert await _ids(desk, sue, "?team=nonexistent") == []
    assert await _ids(desk, sue, f"?assignee={alice_id}") == [ids[2], ids[1]]
    assert await _ids(desk, alice, "?assignee=me&status=open") == [ids[1]]
    assert await _ids(desk, sue, f"?assignee={carol_id}&team=support") == [ids[5]]
    latest = (await _ids(desk, sue))[0]
    unassigned = [latest, *expect(lambda i: i not in (ids[1], ids[2], ids[5]))]
    assert await _ids(desk, sue, "?assignee=none&limit=100") == unassigned

    # Filtered pages join up the same way.
    pages, cursor = [], None
    while True:
        query = "?team=support&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await call(client, "GET", f"/api/v1/conversations{query}", sue)
        pages += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            break
    assert pages == await _ids(desk, sue, "?team=support&limit=100")
    assert isinstance(datetime.fromisoformat(page["items"][-1]["last_activity_at"]), datetime)


NESTED = b'{"text": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
BAD_CALLS: list[tuple[str, str, str, Any, int, str, str | None]] = [
    # (case, method, path after /api/v1/conversations, body, status, error code, field named)
    ("reply: malformed JSON", "POST", "/{id}/messages", b'{"text": "hi', 400, "invalid_json", None),
    ("reply: JSON array", "POST", "/{id}/messages", b'["hi"]', 400, "invalid_json", None),
    ("reply: nested too deep", "POST", "/{id}/messages", NESTED, 400, "invalid_json", None),
    ("reply: no text", "POST", "/{id}/messages", {"private": False}, 422, "invalid_field", "text"),
    ("reply: blank text", "POST", "/{id}/messages", {"text": "  "}, 422, "invalid_field", "text"),
    ("reply: numeric text", "POST", "/{id}/messages", {"text": 5}, 422, "invalid_field", "text"),
    ("reply: NUL", "POST", "/{id}/messages", {"text": "a\x00"}, 422, "invalid_field", "text"),
    (
        "reply: surrogate",
        "POST",
        "/{id}/messages",
        b'{"text": "\\udfff"}',
        422,
        "invalid_field",
        "text",
    ),
    (
        "reply: private not bool",
        "POST",
        "/{id}/messages",
        {"text": "a", "private": "yes"},
        422,
        "invalid_field",
        "private",
    ),
    (
        "reply: unknown field",
        "POST",
        "/{id}/messages",
        {"text": "a", "to": "x"},
        422,
        "invalid_field",
        "to",
    ),
    (
        "reply: 100 kB",
        "POST",
        "/{id}/messages",
        {"text": "x" * 100_000},
        422,
        "invalid_field",
        "text",
    ),
    ("reply: 1 MB", "POST", "/{id}/messages", {"text": "x" * 1_000_000}, 413, "too_large", None),
    (
        "reply: no such conversation",
        "POST",
        "/999999/messages",
        {"text": "a"},
        404,
        "not_found",
        None,
    ),
    ("patch: malformed JSON", "PATCH", "/{id}", b"{status: open}", 400, "invalid_json", None),
    (
        "patch: unknown status",
        "PATCH",
        "/{id}",
        {"status": "closed"},
        422,
        "invalid_field",
        "status",
    ),
    ("patch: status list", "PATCH", "/{id}", {"status": ["open"]}, 422, "invalid_field", "status"),
    ("patch: null status", "PATCH", "/{id}", {"status": None}, 422, "invalid_field", "status"),
    (
        "patch: null priority",
        "PATCH",
        "/{id}",
        {"priority": None},
        422,
        "invalid_field",
        "priority",
    ),
    (
        "patch: status object",
        "PATCH",
        "/{id}",
        {"status": {"a": 1}},
        422,
        "invalid_field",
        "status",
    ),
    (
        "patch: unknown priority",
        "PATCH",
        "/{id}",
        {"priority": "asap"},
        422,
        "invalid_field",
        "priority",
    ),
    (
        "patch: priority list",
        "PATCH",
        "/{id}",
        {"priority": ["low"]},
        422,
        "invalid_field",
        "priority",
    ),
    (
        "patch: assignee string",
        "PATCH",
        "/{id}",
        {"assignee_id": "1"},
        422,
        "invalid_field",
        "assignee_id",
    ),
    (
        "patch: assignee bool",
        "PATCH",
        "/{id}",
        {"assignee_id": True},
        422,
        "invalid_field",
        "assignee_id",
    ),
    (
        "patch: no such agent",
        "PATCH",
        "/{id}",
        {"assignee_id": 4242},
        422,
        "invalid_field",
        "assignee_id",
    ),
    (
        "patch: huge agent id",
        "PATCH",
        "/{id}",
        {"assignee_id": 2**40},
        422,
        "invalid_field",
        "assignee_id",
    ),
    ("patch: unknown field", "PATCH", "/{id}", {"subject": "x"}, 422, "invalid_field", "subject"),
    (
        "patch: too large",
        "PATCH",
        "/{id}",
        {"status": "open", "pad": "x" * 300_000},
        413,
        "too_large",
        None,
    ),
    ("get: id not a number", "GET", "/abc", None, 404, "not_found", None),
    ("get: superscript id", "GET", "/%C2%B2", None, 404, "not_found", None),
    ("get: huge id", "GET", "/99999999999", None, 404, "not_found", None),
    ("get: zero id", "GET", "/0", None, 404, "not_found", None),
    ("messages: huge id", "GET", "/99999999999/messages", None, 404, "not_found", None),
    ("messages: bad after", "GET", "/{id}/messages?after=-1", None, 400, "invalid_query", "after"),
    (
        "messages: huge after",
        "GET",
        "/{id}/messages?after=99999999999",
        None,
        400,
        "invalid_query",
        "after",
    ),
    ("messages: bad limit", "GET", "/{id}/messages?limit=0", None, 400, "invalid_query", "limit"),
    ("list: bad status", "GET", "?status=closed", None, 400, "invalid_query", "status"),
    ("list: bad assignee", "GET", "?assignee=bob", None, 400, "invalid_query", "assignee"),
    (
        "list: superscript assignee",
        "GET",
        "?assignee=%C2%B2",
        None,
        400,
        "invalid_query",
        "assignee",
    ),
    ("list: NUL team", "GET", "?team=%00", None, 400, "invalid_query", "team"),
    ("list: limit too big", "GET", "?limit=101", None, 400, "invalid_query", "limit"),
    ("list: limit not a number", "GET", "?limit=ten", None, 400, "invalid_query", "limit"),
    ("list: superscript limit", "GET", "?limit=%C2%B2", None, 400, "invalid_query", "limit"),
    (
        "list: garbage cursor",
        "GET",
        "?cursor=bm90IGEgY3Vyc29y",
        None,
        400,
        "invalid_query",
        "cursor",
    ),
    (
        "list: cursor huge id",
        "GET",
        "?cursor=MjAyNi0wMS0wNVQwOTowMDowMCswMDowMHw5OTk5OTk5OTk5OQ==",
        None,
        400,
        "invalid_query",
        "cursor",
    ),
    ("list: not base64", "GET", "?cursor=%25%25%25", None, 400, "invalid_query", "cursor"),
    ("method not allowed", "DELETE", "/{id}", None, 405, "method_not_allowed", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code", "field"),
    [case[1:] for case in BAD_CALLS],
    ids=[case[0] for case in BAD_CALLS],
)
async def test_bad_calls_get_a_json_error_and_change_nothing(
    desk: Desk,
    method: str,
    path: str,
    body: Any,
    status: int,
    code: str,
    field: str | None,
) -> None:
    people = await _people(desk)
    started = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "My parcel is late."
    )
    path = "/api/v1/conversations" + path.replace("{id}", str(started["conversation_id"]))
    before = await settled(desk.hub)

    answered, error = await call(desk.client, method, path, people["sue"][1], body)

    assert answered == status, error
    assert error["error"]["code"] == code
    if field is not None:
        assert error["error"]["fields"].keys() == {field}
        assert field in error["error"]["message"]
    assert await db_state(desk.hub) == before


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer rdk_not-a-real-token", "Basic YWxpY2U6c2VjcmV0", "{revoked}"],
    ids=["none", "empty", "no token", "wrong token", "basic", "revoked"],
)
async def test_no_valid_token_is_401_and_changes_nothing(
    desk: Desk, authorization: str | None
) -> None:
    _, revoked = await desk.agent("old@example.com")
    async with desk.hub.db.writer() as session:
        await session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == token_digest(revoked))
            .values(revoked_at=datetime.now(UTC))
        )
        await session.commit()
    started = await start_conversation(
        desk.client, desk.hub, "s-1", "jane@example.com", "My parcel is late."
    )
    path = f"/api/v1/conversations/{started['conversation_id']}"
    before = await settled(desk.hub)
    headers = {}
    if authorization is not None:
        headers["Authorization"] = authorization.replace("{revoked}", f"Bearer {revoked}")

    for method, suffix, body in [
        ("GET", "", None),
        ("GET", "/messages", None),
        ("PATCH", "", {"status": "resolved"}),
        ("POST", "/messages", {"text": "hello"}),
    ]:
        response = await desk.client.request(method, path + suffix, json=body, headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "unauthorized"
    for listing in ("/api/v1/conversations", f"/api/v1/customers/{started['customer_id']}"):
        response = await desk.client.get(listing, headers=headers)
        assert response.status == 401
    assert await db_state(desk.hub) == before
