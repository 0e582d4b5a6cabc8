"""A hub that keeps its outgoing requests to public addresses (``outgoing.allow_private_targets``
off, as in production) does not POST an API channel's replies to a callback on 127.0.0.1: the
reply fails at once, naming the address, and is not tried again; the admin's channel status
and test send say the same, and the log named the setting when the hub started. A network the
config allows gets its callbacks."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from hub.db.models import OutboxItem, Role
from tests.support.agent_api import call, start_conversation
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder

PRODUCTION = {"outgoing.allow_private_targets": False}
REFUSED = "refused to connect: 127.0.0.1 is a loopback address (see outgoing.allowed_networks)"


async def _reply(desk: Desk, token: str, text: str) -> tuple[str, int]:
    started = await start_conversation(
        desk.client, desk.hub, "ord-1", "jane@example.com", "Where is my parcel?"
    )
    path = f"/api/v1/conversations/{started['conversation_id']}"
    status, reply = await call(desk.client, "POST", f"{path}/messages", token, {"text": text})
    assert status == 201, reply
    return path, int(reply["id"])


async def test_a_reply_to_a_callback_on_a_loopback_address_fails_naming_it(
    make_desk: MakeDesk, callback_server: HttpRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.assembly"):
        desk = await make_desk(**PRODUCTION)
    assert any(
        "channels.api.callback_url: 127.0.0.1 is a loopback address" in r.getMessage()
        for r in caplog.records
    )
    _, agent = await desk.agent("bob@example.com")
    path, reply_id = await _reply(desk, agent, "On its way.")

    async def shown() -> dict[str, object]:
        _, listed = await call(desk.client, "GET", f"{path}/messages", agent)
        [found] = [m for m in listed["items"] if m["id"] == reply_id]
        return dict(found)

    async def failed() -> bool:
        return (await shown())["delivery_state"] == "failed"

    await eventually(failed, what="the reply failed")
    error = f"callback not sent: {REFUSED} (after 1 attempt(s))"  # not tried again
    assert (await shown())["delivery_error"] == error
    assert callback_server.requests == []
    async with desk.db.reader() as session:
        entry = await session.scalar(select(OutboxItem).where(OutboxItem.message_id == reply_id))
    assert entry is not None and (entry.state, entry.attempts) == ("failed", 1)  # no retry

    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    listed = await desk.client.get("/api/v1/admin/channels", headers=auth(admin))
    api = next(c for c in (await listed.json())["items"] if c["name"] == "api")
    assert REFUSED in api["last_error"]
    tested = await desk.client.post(
        "/api/v1/admin/channels/api/test", json={"to": "ops@example.com"}, headers=auth(admin)
    )
    assert await tested.json() == {"ok": False, "error": f"callback not sent: {REFUSED}"}
    assert callback_server.requests == []


async def test_a_callback_in_an_allowed_network_gets_the_reply(
    make_desk: MakeDesk, callback_server: HttpRecorder, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="hub.assembly"):
        desk = await make_desk(**PRODUCTION, **{"outgoing.allowed_networks": ["127.0.0.0/8"]})
    assert not [r for r in caplog.records if "outgoing requests refused" in r.getMessage()]
    _, agent = await desk.agent("bob@example.com")
    _, reply_id = await _reply(desk, agent, "On its way.")
    [posted] = await callback_server.wait_for(1)
    assert posted.json()["message_id"] == reply_id
