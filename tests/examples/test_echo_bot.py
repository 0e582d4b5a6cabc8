"""The example bot: genuine events from the hub are answered; a forged or stale signature, or a
missing one, is refused (401) and the bot says nothing. And the whole loop: the hub signs, the
example verifies, its buttons and handoff request take effect."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from examples.echo_bot import make_app
from hub.bots import signing
from hub.db.models import Role
from hub.platform.clock import SystemClock
from tests.hub.bots.conftest import register
from tests.support.desk import MakeDesk, auth

SECRET = "s3cret-for-the-example"
EVENT = {"event": "message.created", "bot": "echo", "conversation": {"id": 1, "channel": "api"},
         "message": {"id": 7, "text": "hello"}}  # fmt: skip


@pytest.fixture
async def echo() -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(TestServer(make_app(SECRET)))
    await client.start_server()
    yield client
    await client.close()


async def post(echo: TestClient[Any, Any], headers: dict[str, str], body: bytes) -> int:
    response = await echo.post("/events", data=body, headers=headers)
    return response.status


async def test_a_genuine_event_is_answered(echo: TestClient[Any, Any]) -> None:
    body = json.dumps(EVENT).encode()
    response = await echo.post(
        "/events", data=body, headers=signing.headers(SECRET, int(time.time()), body)
    )
    assert response.status == 200
    said = await response.json()
    assert said["messages"][0]["text"] == "You said: hello"


async def test_forged_stale_and_missing_signatures_are_refused(
    echo: TestClient[Any, Any],
) -> None:
    body = json.dumps(EVENT).encode()
    now = int(time.time())
    forged = signing.headers("not-the-secret", now, body)
    stale = signing.headers(SECRET, now - 301, body)
    tampered = signing.headers(SECRET, now, body)
    assert await post(echo, forged, body) == 401
    assert await post(echo, stale, body) == 401
    assert await post(echo, tampered, body.replace(b"hello", b"HELLO")) == 401
    assert await post(echo, {"Content-Type": "application/json"}, body) == 401
    assert signing.verify(SECRET, str(now - 301), stale[signing.SIGNATURE], body, now) == (
        "stale timestamp (outside the replay window)"
    )


async def test_the_hub_and_the_example_bot_talk(make_desk: MakeDesk) -> None:
    desk = await make_desk(SystemClock())
    agent_id, admin = await desk.agent("agent@example.com", role=Role.ADMIN)
    made = await register(desk, name="echo", kind="webhook", url="http://127.0.0.1:9/events",
                          channels=["api"])  # fmt: skip
    echo = TestServer(make_app(made["secret"]))
    await echo.start_server()
    try:
        moved = await desk.client.patch(
            f"/api/v1/bots/{made['id']}", json={"url": str(echo.make_url("/events"))},
            headers=auth(admin),
        )  # fmt: skip
        assert moved.status == 200
        opened = await desk.customer_writes("hello")
        await desk.run_jobs()
        [menu] = await desk.wait_sent(1, channel="api")
        assert "You said: hello" in menu.text and "2. Talk to a person" in menu.text
        await desk.customer_writes("2")
        await desk.run_jobs()
        conversation = await desk.conversation(opened.conversation_id)
        assert conversation.assignee_id == agent_id
        _, handed = await desk.wait_sent(2, channel="api")
        assert handed.text == "Connecting you to a colleague.\n"
    finally:
        await echo.close()
