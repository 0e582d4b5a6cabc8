"""The API channel as an integrating system sees it: POST /api/v1/inbound/{channel} with a bearer
token stores a customer message once, answers duplicates with the original ids, and refuses bad
input with a JSON error that names the problem while leaving the database untouched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.models import Conversation, Identity, Message
from hub.web.keys import HUB
from tests.conftest import auth
from tests.support.agent_api import db_state, inbound_token, payload, post_inbound, settled
from tests.support.desk import Desk, MakeDesk
from tests.support.smtp import SmtpSink


async def _inbound_messages(desk: Desk, external_id: str) -> list[Message]:
    async with desk.hub.db.reader() as session:
        rows = await session.scalars(
            select(Message).where(Message.channel == "api", Message.external_id == external_id)
        )
        return list(rows.all())


async def test_new_message_is_stored_and_a_repeat_is_a_duplicate(
    desk: Desk, smtp_sink: SmtpSink
) -> None:
    _, token = await desk.agent("alice@example.com")
    key = inbound_token(desk.hub)
    body = payload("order-42", "Jane.Cooper@Example.com", "Where is my parcel?")

    status, first = await post_inbound(desk.client, body, token=key)
    assert status == 201
    assert set(first) == {"message_id", "conversation_id", "customer_id", "duplicate"}
    assert first["duplicate"] is False

    status, again = await post_inbound(desk.client, body, token=key)
    assert status == 200
    assert again == {**first, "duplicate": True}
    assert len(await _inbound_messages(desk, "order-42")) == 1

    listed = await desk.client.get(
        f"/api/v1/conversations/{first['conversation_id']}/messages", headers=auth(token)
    )
    inbound = [m for m in (await listed.json())["items"] if m["direction"] == "inbound"]
    assert [(m["id"], m["text"]) for m in inbound] == [(first["message_id"], "Where is my parcel?")]

    # The customer was acknowledged once, by email (the channel's ack_via), at the normalized
    # address, not twice.
    [ack] = await smtp_sink.wait_for(1)
    assert ack.rcpt_tos == ["jane.cooper@example.com"]
    await settled(desk.hub)
    assert len(smtp_sink.received) == 1


async def test_thread_key_keeps_messages_in_one_conversation(desk: Desk) -> None:
    key = inbound_token(desk.hub)
    _, first = await post_inbound(desk.client, payload("m1", thread_key="T-1"), token=key)
    _, second = await post_inbound(desk.client, payload("m2", thread_key="T-1"), token=key)
    _, other = await post_inbound(desk.client, payload("m3", thread_key="T-2"), token=key)
    assert second["conversation_id"] == first["conversation_id"]
    assert other["conversation_id"] != first["conversation_id"]
    assert first["customer_id"] == second["customer_id"] == other["customer_id"]


async def test_concurrent_posts_of_one_message_store_it_once(desk: Desk) -> None:
    key = inbound_token(desk.hub)
    body = payload("burst-1", "burst@example.com")
    answers = await asyncio.gather(*(post_inbound(desk.client, body, token=key) for _ in range(2)))
    assert sorted(status for status, _ in answers) == [200, 201]
    [(_, a), (_, b)] = answers
    assert {k: v for k, v in a.items() if k != "duplicate"} == {
        k: v for k, v in b.items() if k != "duplicate"
    }
    assert len(await _inbound_messages(desk, "burst-1")) == 1


async def test_concurrent_posts_to_two_hub_processes_store_it_once(
    desk: Desk, settings: Settings, make_desk: MakeDesk
) -> None:
    """Two hubs on one database (two web processes) race on the same external_id."""
    other = (await make_desk(settings=settings)).client
    key = inbound_token(desk.hub)
    await post_inbound(desk.client, payload("known-first", "known@example.com"), token=key)
    for round_ in range(5):
        # New sender each round (customer and identity race too), and a known sender.
        for address in (f"racer{round_}@example.com", "known@example.com"):
            body = payload(f"race-{round_}-{address}", address)
            answers = await asyncio.gather(
                post_inbound(desk.client, body, token=key),
                post_inbound(other, body, token=key),
            )
            assert sorted(status for status, _ in answers) == [200, 201], answers
            assert answers[0][1]["message_id"] == answers[1][1]["message_id"]
            assert len(await _inbound_messages(desk, body["external_id"])) == 1
    async with other.app[HUB].db.reader() as session:
        identities = (await session.scalars(select(Identity.address))).all()
    expected = ["known@example.com", *(f"racer{n}@example.com" for n in range(5))]
    assert sorted(identities) == expected


def _text(size: int) -> dict[str, Any]:
    return payload("big", text="x" * size)


def _without(field: str) -> dict[str, Any]:
    body = payload("partial")
    del body[field]
    return body


BAD_REQUESTS: list[tuple[str, Any, int, str, str | None]] = [
    # (case, body, status, error code, field named)
    ("malformed JSON", b'{"external_id": "m-1", "text": ', 400, "invalid_json", None),
    ("empty body", b"", 400, "invalid_json", None),
    ("not UTF-8", b'{"text": "\xff"}', 400, "invalid_json", None),
    ("a JSON array", b'[{"external_id": "m-1"}]', 400, "invalid_json", None),
    ("nested too deep", b"[" * 100_000 + b"]" * 100_000, 400, "invalid_json", None),
    ("no external_id", _without("external_id"), 422, "invalid_field", "external_id"),
    ("blank external_id", payload("   "), 422, "invalid_field", "external_id"),
    (
        "numeric external_id",
        {**payload("x"), "external_id": 7},
        422,
        "invalid_field",
        "external_id",
    ),
    ("long external_id", payload("e" * 201), 422, "invalid_field", "external_id"),
    ("no from", _without("from"), 422, "invalid_field", "from"),
    (
        "from is a string",
        {**payload("x"), "from": "jane@example.com"},
        422,
        "invalid_field",
        "from",
    ),
    (
        "no from.address",
        {**payload("x"), "from": {"name": "J"}},
        422,
        "invalid_field",
        "from.address",
    ),
    ("bad email", payload("x", "not-an-address"), 422, "invalid_field", "from.address"),
    (
        "numeric name",
        {**payload("x"), "from": {"address": "a@b.org", "name": 5}},
        422,
        "invalid_field",
        "from.name",
    ),
    ("no text", _without("text"), 422, "invalid_field", "text"),
    ("numeric text", {**payload("x"), "text": 12}, 422, "invalid_field", "text"),
    ("blank text", payload("x", text=" \n "), 422, "invalid_field", "text"),
    ("NUL in text", payload("x", text="a\x00b"), 422, "invalid_field", "text"),
    (
        "lone surrogate",
        b'{"external_id":"x","from":{"address":"a@b.org"},"text":"\\ud800"}',
        422,
        "invalid_field",
        "text",
    ),
    ("NUL in extra field", {**payload("x"), "meta": {"k": "\x00"}}, 422, "invalid_field", "meta.k"),
    ("text over the channel limit", _text(100_000), 422, "invalid_field", "text"),
    ("1 MB text", _text(1_000_000), 413, "too_large", None),
    ("numeric thread_key", {**payload("x"), "thread_key": 3}, 422, "invalid_field", "thread_key"),
]


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
async def test_bad_input_is_refused_and_changes_nothing(
    desk: Desk, body: Any, status: int, code: str, field: str | None
) -> None:
    key = inbound_token(desk.hub)
    await post_inbound(desk.client, payload("earlier"), token=key)
    before = await settled(desk.hub)

    answered, error = await post_inbound(desk.client, body, token=key)

    assert answered == status, error
    assert error["error"]["code"] == code
    assert error["error"]["message"]
    if field is not None:
        assert field in error["error"]["fields"], error
        assert error["error"]["message"].startswith(f"{field}:")
    assert await db_state(desk.hub) == before


@pytest.mark.parametrize(
    ("headers", "channel", "status", "code"),
    [
        ({"Authorization": "Bearer wrong-token-0123456789"}, "api", 401, "unauthorized"),
        ({"Authorization": "Basic ZGVtbzpkZW1v"}, "api", 401, "unauthorized"),
        ({}, "api", 401, "unauthorized"),
        ({"Authorization": "Bearer {token}"}, "nonexistent", 404, "unknown_channel"),
        ({"Authorization": "Bearer {token}"}, "mail", 404, "unknown_channel"),
        ({"Authorization": "Bearer {token}"}, "contact", 404, "unknown_channel"),
    ],
    ids=["wrong token", "basic auth", "no token", "unknown channel", "email channel", "form"],
)
async def test_wrong_token_or_channel_is_refused_and_changes_nothing(
    desk: Desk, headers: dict[str, str], channel: str, status: int, code: str
) -> None:
    key = inbound_token(desk.hub)
    await post_inbound(desk.client, payload("earlier"), token=key)
    before = await settled(desk.hub)
    headers = {name: value.replace("{token}", key) for name, value in headers.items()}

    response = await desk.client.post(
        f"/api/v1/inbound/{channel}", data=json.dumps(payload("new-one")), headers=headers
    )

    assert response.status == status
    assert (await response.json())["error"]["code"] == code
    assert await db_state(desk.hub) == before
    async with desk.hub.db.reader() as session:
        assert await session.scalar(select(Conversation.id).where(Conversation.id > 1)) is None


@pytest.mark.parametrize(
    "body",
    [b"{not json", json.dumps({"external_id": "x"}).encode(), b"x" * (2 * 1024 * 1024)],
    ids=["invalid json", "missing fields", "larger than the limit"],
)
async def test_a_wrong_token_is_refused_before_the_body_is_looked_at(
    desk: Desk, body: bytes
) -> None:
    before = await db_state(desk.hub)

    response = await desk.client.post(
        "/api/v1/inbound/api",
        data=body,
        headers={
            "Authorization": "Bearer wrong-token-0123456789",
            "Content-Type": "application/json",
        },
    )

    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert await db_state(desk.hub) == before
