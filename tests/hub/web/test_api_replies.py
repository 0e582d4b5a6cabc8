"""Agent replies and notes through POST /api/v1/conversations/{id}/messages on an API-channel
conversation: the reply reaches the integrator's callback as HMAC-signed JSON through the outbox
(retried on 5xx, failed with a visible reason on 4xx); a private note goes nowhere."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from sqlalchemy import select

from hub.db.models import Message, OutboxItem
from tests.support.agent_api import call, settled, start_conversation
from tests.support.desk import Desk
from tests.support.poll import eventually
from tests.support.recorder import HttpRecorder, Recorded
from tests.support.smtp import SmtpSink

SECRET = b"demo-callback-secret"  # channels.api.signing_secret in config/relaydesk.toml


def signature_ok(request: Recorded, secret: bytes = SECRET) -> bool:
    timestamp = request.headers["X-Relaydesk-Timestamp"]
    expected = hmac.new(secret, timestamp.encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(
        request.headers["X-Relaydesk-Signature"], "sha256=" + expected.hexdigest()
    )


async def _setup(desk: Desk, thread_key: str | None = None) -> tuple[str, dict[str, Any]]:
    _, token = await desk.agent("alice@example.com")
    extra = {"thread_key": thread_key} if thread_key else {}
    started = await start_conversation(
        desk.client, desk.hub, "ord-1", "jane@example.com", "Where is my parcel?", **extra
    )
    return token, started


async def _message(desk: Desk, token: str, conversation_id: int, message_id: int) -> Any:
    status, listed = await call(
        desk.client, "GET", f"/api/v1/conversations/{conversation_id}/messages", token
    )
    assert status == 200
    [found] = [m for m in listed["items"] if m["id"] == message_id]
    return found


async def _reply(desk: Desk, token: str, conversation_id: int, text: str) -> Any:
    status, reply = await call(
        desk.client,
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        token,
        {"text": text, "private": False},
    )
    assert status == 201, reply
    return reply


async def _state_becomes(
    desk: Desk, token: str, conversation_id: int, message_id: int, state: str
) -> Any:
    seen: dict[str, Any] = {}

    async def reached() -> bool:
        seen.update(await _message(desk, token, conversation_id, message_id))
        return bool(seen["delivery_state"] == state)

    await eventually(reached, what=f"delivery_state {state}")
    return seen


async def test_reply_reaches_the_callback_signed(
    desk: Desk, callback_server: HttpRecorder, smtp_sink: SmtpSink
) -> None:
    token, started = await _setup(desk, thread_key="shop-order-77")
    conversation_id = started["conversation_id"]

    reply = await _reply(desk, token, conversation_id, "It left our warehouse today.")
    assert (reply["direction"], reply["channel"], reply["delivery_state"]) == (
        "outbound",
        "api",
        "queued",
    )

    [request] = await callback_server.wait_for(1)
    assert (request.method, request.path) == ("POST", "/callback")
    assert request.headers["Content-Type"] == "application/json"
    assert signature_ok(request)
    assert not signature_ok(request, b"another-secret")
    assert abs(int(request.headers["X-Relaydesk-Timestamp"]) - time.time()) < 300
    assert request.headers["Idempotency-Key"] == f"relaydesk-{reply['id']}"
    sent = request.json()
    assert sent["message_id"] == reply["id"]
    assert sent["conversation_id"] == conversation_id
    assert sent["thread_key"] == "shop-order-77"
    assert sent["to"] == {"address": "jane@example.com", "name": "Jane Cooper"}
    assert sent["text"].startswith("It left our warehouse today.")
    assert sent["automated"] is False

    delivered = await _state_becomes(desk, token, conversation_id, reply["id"], "sent")
    assert delivered["delivery_error"] is None
    # The acknowledgement went by email (the channel's ack_via), not to the callback.
    [ack] = await smtp_sink.wait_for(1)
    assert ack.rcpt_tos == ["jane@example.com"]
    await settled(desk.hub)
    assert len(callback_server.requests) == 1


async def test_callback_errors_are_retried_until_it_is_sent(
    desk: Desk, callback_server: HttpRecorder
) -> None:
    token, started = await _setup(desk)
    callback_server.statuses = [500, 503]
    reply = await _reply(desk, token, started["conversation_id"], "Retry me.")

    attempts = await callback_server.wait_for(3)
    assert [r.json()["message_id"] for r in attempts] == [reply["id"]] * 3
    assert {r.headers["Idempotency-Key"] for r in attempts} == {f"relaydesk-{reply['id']}"}
    assert all(signature_ok(r) for r in attempts)
    delivered = await _state_becomes(desk, token, started["conversation_id"], reply["id"], "sent")
    assert delivered["delivery_error"] is None
    async with desk.hub.db.reader() as session:
        item = await session.scalar(select(OutboxItem).where(OutboxItem.message_id == reply["id"]))
        assert item is not None and (item.state, item.attempts) == ("sent", 3)


async def test_callback_refusal_fails_with_the_reason_visible(
    desk: Desk, callback_server: HttpRecorder
) -> None:
    token, started = await _setup(desk)
    callback_server.statuses = [400]
    reply = await _reply(desk, token, started["conversation_id"], "You will refuse this.")

    failed = await _state_becomes(desk, token, started["conversation_id"], reply["id"], "failed")
    assert "callback answered HTTP 400" in failed["delivery_error"]
    assert "1 attempt" in failed["delivery_error"]
    await settled(desk.hub)
    assert len(callback_server.requests) == 1  # a 4xx is final: no retry


async def test_private_note_is_sent_nowhere(
    desk: Desk, callback_server: HttpRecorder, smtp_sink: SmtpSink
) -> None:
    token, started = await _setup(desk)
    conversation_id = started["conversation_id"]
    await smtp_sink.wait_for(1)  # the acknowledgement

    status, note = await call(
        desk.client,
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        token,
        {"text": "VIP customer, be quick.", "private": True},
    )
    assert status == 201
    assert (note["direction"], note["delivery_state"]) == ("note", "none")
    assert note["author_agent_id"] is not None

    # A reply after the note is the only thing the callback ever gets.
    reply = await _reply(desk, token, conversation_id, "On it.")
    await _state_becomes(desk, token, conversation_id, reply["id"], "sent")
    await settled(desk.hub)
    assert [r.json()["message_id"] for r in callback_server.requests] == [reply["id"]]
    assert all("VIP" not in r.body.decode() for r in callback_server.requests)
    assert all("VIP" not in m.raw.decode() for m in smtp_sink.received)
    assert len(smtp_sink.received) == 1
    async with desk.hub.db.reader() as session:
        queued = (await session.scalars(select(OutboxItem.message_id))).all()
        assert note["id"] not in queued
        stored = await session.get(Message, note["id"])
        assert stored is not None and stored.text == "VIP customer, be quick."
    listed = await _message(desk, token, conversation_id, note["id"])
    assert listed["text"] == "VIP customer, be quick."
