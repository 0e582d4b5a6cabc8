"""The chat widget's WebSocket protocol against the running hub: a visitor's message is
acknowledged only once committed, a resent client id stores nothing new, agent replies arrive
live and after a reconnect, the visitor is remembered by their signed token, and bad frames,
foreign origins, floods and oversized frames are refused with an error naming the problem."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from channels.web.widget import SendText, WidgetChannel
from hub.db.models import Conversation, Identity, Message, OutboxItem, Role
from hub.db.widget_models import WidgetDelivery
from hub.web.ui import collision
from hub.widget.live import WidgetRegistry
from hub.widget.visitors import HISTORY_LIMIT
from tests.channels.web.widget_client import Visitor
from tests.conftest import auth
from tests.support.desk import Desk, MakeDesk
from tests.support.poll import eventually

WS = "/widget/chat/ws"


@pytest.fixture
def widget_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
async def chat(make_desk: MakeDesk, widget_overrides: dict[str, Any]) -> Desk:
    return await make_desk(**{"channels.chat.offline_grace_seconds": 0} | widget_overrides)


async def count(desk: Desk, model: Any, *where: Any) -> int:
    async with desk.hub.db.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def reply(desk: Desk, token: str, conversation_id: int, text: str) -> dict[str, Any]:
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        json={"text": text},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def message_row(desk: Desk, message_id: int) -> Message:
    async with desk.hub.db.reader() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def wait_state(desk: Desk, message_id: int, state: str) -> Message:
    async def reached() -> bool:
        return (await message_row(desk, message_id)).delivery_state == state

    await eventually(reached, what=f"message {message_id} {state}")
    return await message_row(desk, message_id)


async def gone(desk: Desk) -> None:
    """Wait until the hub has noticed every socket closed."""
    registry: WidgetRegistry = desk.hub.widgets.registry

    async def closed() -> bool:
        return registry.connections == 0

    await eventually(closed, what="sockets closed")


async def test_message_is_acked_after_commit_and_a_reply_arrives_live(chat: Desk) -> None:
    _, token = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    welcome = await visitor.connect()
    assert welcome["title"] == "Chat with us"
    ack = await visitor.message("Hello, is my order shipped?", "c-1")
    assert ack["duplicate"] is False
    stored = await message_row(chat, ack["id"])  # committed before the ack
    assert stored.text == "Hello, is my order shipped?"
    assert stored.channel == "chat"
    assert stored.external_id == f"widget:{visitor.visitor_id}:c-1"
    async with chat.hub.db.reader() as session:
        identity = await session.scalar(
            select(Identity).where(Identity.kind == "web", Identity.address == visitor.visitor_id)
        )
        assert identity is not None and identity.customer_id == stored.customer_id

    sent = await reply(chat, token, ack["conversation_id"], "It left our warehouse today.")
    shown = await visitor.agent_text("It left our warehouse today.")
    assert shown["from"] == "agent"
    assert shown["text"] == "It left our warehouse today."  # no email signature in the chat
    assert shown["author"] == "Sam"
    delivered = await wait_state(chat, sent["id"], "sent")
    assert delivered.external_id == f"widget:{sent['id']}"
    async with chat.hub.db.reader() as session:
        record = await session.get(WidgetDelivery, sent["id"])
        assert record is not None and record.via == "socket"
    await visitor.close()


async def test_a_resent_client_id_stores_one_message(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    first = await visitor.message("Where is my refund?", "same-id")
    again = await visitor.message("Where is my refund?", "same-id")
    assert again["id"] == first["id"] and again["duplicate"] is True
    await visitor.close()
    await visitor.connect()  # the page resends what it had not seen acknowledged
    after = await visitor.message("Where is my refund?", "same-id")
    assert after["id"] == first["id"] and after["duplicate"] is True
    assert await count(chat, Message, Message.direction == "inbound") == 1
    await visitor.close()


async def test_a_reconnecting_visitor_gets_what_was_sent_meanwhile(chat: Desk) -> None:
    _, token = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Can I change my address?", "c-1")
    await visitor.agent_text("Can I change my address?")  # the log shows it with its id
    await visitor.close()
    await gone(chat)

    first = await reply(chat, token, ack["conversation_id"], "Yes, tell us the new one.")
    second = await reply(chat, token, ack["conversation_id"], "Or change it in your account.")

    async def tried() -> bool:
        message = await message_row(chat, second["id"])
        return message.delivery_error is not None

    await eventually(tried, what="the reply was tried while the visitor was away")
    waiting = await message_row(chat, first["id"])
    assert waiting.delivery_state == "queued"  # not claimed as sent: nobody saw it
    assert "left no email address" in (waiting.delivery_error or "")

    await visitor.connect()  # since = the last id it saw
    assert (await visitor.agent_text("Yes, tell us the new one."))["id"] == first["id"]
    assert (await visitor.agent_text("Or change it in your account."))["id"] == second["id"]
    await wait_state(chat, first["id"], "sent")
    await wait_state(chat, second["id"], "sent")
    await visitor.close()


async def test_the_visitor_is_remembered_by_their_token(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    await visitor.message("First visit", "c-1")
    await visitor.close()

    reloaded = Visitor(chat.client, WS)  # a new page load: nothing shown yet, token kept
    welcome = await reloaded.connect(since=0, token=visitor.token)
    assert welcome["visitor_id"] == visitor.visitor_id
    history = await reloaded.agent_text("First visit")
    assert history["from"] == "visitor" and history["client_id"] == "c-1"
    await reloaded.message("Second visit", "c-2")
    assert await count(chat, Conversation) == 1
    await reloaded.close()

    forged = Visitor(chat.client, WS)
    token = visitor.token or ""
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    await forged.connect(token=tampered)
    error = next(f for f in forged.frames if f["type"] == "error")
    assert error["code"] == "invalid_token"
    assert forged.visitor_id != visitor.visitor_id  # a fresh visitor, no history
    assert forged.texts() == []
    await forged.close()


async def test_a_foreign_origin_is_refused_before_the_upgrade(chat: Desk) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await chat.client.ws_connect(WS, headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    response = await chat.client.get(
        WS,
        headers={
            "Origin": "https://evil.example",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
    )
    assert response.status == 403
    body = await response.json()
    assert body["error"]["code"] == "forbidden_origin"
    assert "evil.example" in body["error"]["message"]

    allowed = Visitor(chat.client, WS)  # listed in allowed_origins of the example config
    await allowed.connect(Origin="http://localhost:8000")
    await allowed.close()
    own = Visitor(chat.client, WS)
    await own.connect(Origin=str(chat.client.make_url("/")).rstrip("/"))
    await own.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as cross:
        await chat.client.ws_connect(WS, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.value.status == 403


async def test_bad_frames_get_an_error_and_the_socket_lives_on(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    visitor.ws = await chat.client.ws_connect(WS)
    await visitor.send({"type": "message", "id": "early", "text": "hi"})
    assert (await visitor.expect("error"))["code"] == "hello_first"
    await visitor.send({"type": "hello"})
    await visitor.expect("welcome")
    for raw, code in (
        ("this is not json", "invalid_json"),
        ("[1, 2]", "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "message", "id": "bad id!", "text": "x"}', "invalid_field"),
        ('{"type": "message", "id": "c-1", "text": 5}', "invalid_field"),
        ('{"type": "message", "id": "c-1", "text": "   "}', "empty_message"),
        ('{"type": "email", "email": "not an address"}', "invalid_email"),
        ('{"type": "hello"}', "already_greeted"),
        ('{"type": "hello", "since": -3}', "invalid_field"),
    ):
        await visitor.send_raw(raw)
        error = await visitor.expect("error")
        assert error["code"] == code, (raw, error)
        assert error["message"]
    assert visitor.ws is not None
    await visitor.ws.send_bytes(b"\x00\x01")
    assert (await visitor.expect("error"))["code"] == "binary_frame"
    assert await count(chat, Message, Message.direction == "inbound") == 0  # nothing half-written
    ack = await visitor.message("Still here", "c-ok")
    assert ack["id"]
    await visitor.close()


@pytest.mark.parametrize(
    "widget_overrides",
    [{"channels.chat.max_frame_bytes": 2048, "channels.chat.max_message_chars": 100}],
)
async def test_oversized_frames_and_texts_are_refused(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    await visitor.send({"type": "message", "id": "big", "text": "x" * 5000})
    error = await visitor.expect("error")
    assert error["code"] == "too_large" and "2048 bytes" in error["message"]
    await visitor.send({"type": "message", "id": "long", "text": "y" * 101})
    error = await visitor.expect("error", client_id="long")
    assert error["code"] == "too_long" and "100 characters" in error["message"]
    assert await count(chat, Message, Message.direction == "inbound") == 0
    await visitor.message("y" * 100, "fits")
    await visitor.close()


@pytest.mark.parametrize(
    "widget_overrides",
    [{"channels.chat.messages_per_minute": 3, "channels.chat.ip_connections_per_minute": 3}],
)
async def test_floods_are_limited_per_visitor_and_per_ip(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    for n in range(3):
        await visitor.message(f"message {n}", f"c-{n}")
    await visitor.send({"type": "message", "id": "c-3", "text": "one too many"})
    error = await visitor.expect("error", client_id="c-3")
    assert error["code"] == "rate_limited" and "try again in" in error["message"]
    assert await count(chat, Message, Message.direction == "inbound") == 3
    await visitor.close()

    for _ in range(2):  # three connections a minute from one address: this was the first
        extra = Visitor(chat.client, WS)
        await extra.connect()
        await extra.close()
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await chat.client.ws_connect(WS)
    assert refused.value.status == 429


async def test_the_page_and_the_embed_script(chat: Desk) -> None:
    page = await chat.client.get("/widget/chat")
    assert page.status == 200
    html = await page.text()
    assert "Chat with us" in html and "/widget/chat/widget.js" in html
    policy = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' http://localhost:8000" in policy
    settings = json.loads(
        html.split('data-settings="', 1)[1].split('"', 1)[0].replace("&#34;", '"')
    )
    assert settings["channel"] == "chat"
    script = await chat.client.get("/widget/chat/embed.js")
    assert script.status == 200
    assert script.content_type == "application/javascript"
    assert '"channel": "chat"' in await script.text()
    assert (await chat.client.get("/widget/chat/widget.js")).status == 200
    assert (await chat.client.get("/widget/chat/widget.css")).status == 200
    assert (await chat.client.get("/widget/contact")).status == 404  # a form, not a widget
    missing = await chat.client.get("/widget/nope/ws")
    assert missing.status == 404
    assert (await missing.json())["error"]["code"] == "unknown_channel"
    plain = await chat.client.get(WS)
    assert plain.status == 400
    assert (await plain.json())["error"]["code"] == "websocket_expected"
    assert await count(chat, OutboxItem) == 0


async def test_a_long_history_arrives_whole_in_pages(chat: Desk) -> None:
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    await visitor.close()
    channel = chat.hub.channels["chat"]
    assert isinstance(channel, WidgetChannel)
    assert visitor.visitor_id is not None
    total = HISTORY_LIMIT + 20
    await chat.hub.ingestor.process(
        [
            channel.inbound(visitor.visitor_id, "", SendText(f"c-{n}", f"line {n}"))
            for n in range(total)
        ]
    )
    reloaded = Visitor(chat.client, WS)
    await reloaded.connect(since=0, token=visitor.token)
    await reloaded.agent_text(f"line {total - 1}")
    ids = reloaded.message_ids()
    assert len(ids) == len(set(ids)) == total  # every message once, in order
    assert ids == sorted(ids)
    await reloaded.close()


async def test_the_visitor_sees_when_an_agent_is_typing(chat: Desk) -> None:
    agent_id, _ = await chat.agent("sam@example.com", role=Role.SUPERVISOR)
    visitor = Visitor(chat.client, WS)
    await visitor.connect()
    ack = await visitor.message("Hello?", "c-1")
    async with chat.hub.db.writer() as session:
        conversation = await session.get(Conversation, ack["conversation_id"])
        assert conversation is not None
        await collision.signal(session, conversation, agent_id, "Sam", chat.hub.clock.now())
        await session.commit()
    typing = await visitor.expect("typing")
    assert typing == {"type": "typing", "name": "Sam", "stopped": False}
    await visitor.close()
