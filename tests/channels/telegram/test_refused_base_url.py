"""A Telegram channel whose Bot API address the hub may not reach (its ``base_url`` or
``base_file_url`` on a loopback or link-local address), in a hub that keeps its outgoing
requests to public addresses (production): the hub warns at start naming the setting; an
agent's reply fails at once naming the address and nothing reaches it; polling pauses saying
why; a customer's file is not fetched. With the network allowed, the same reply goes out.
Through a proxy the environment names, the proxy's address is the one checked."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.chat_models import ChatFileFetch
from hub.db.models import Role
from tests.channels.telegram.conftest import post_update, telegram_fixture, telegram_overrides
from tests.conftest import auth, make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually

PRODUCTION = {"outgoing.allow_private_targets": False}
LOOPBACK = {"outgoing.allowed_networks": ["127.0.0.0/8", "::1/128"]}
LOOPBACK_IPS = ("127.0.0.1", "::1")
METADATA = "http://169.254.169.254/file/bot"  # the cloud's metadata service


def _refused(address: str, kind: str) -> str:
    said = f"{address} is {kind} (see outgoing.allowed_networks)"
    return f"Telegram not reached: refused to connect: {said}"


def _by_name(fake: FakeTelegram) -> str:
    """The fake's Bot API URL by a name that resolves to it (localhost), not its address."""
    return fake.base_url.replace("127.0.0.1", "localhost")


# Starts the hub with the given settings: the desk, and the warnings it logged as it started.
Start = Callable[..., Awaitable[tuple[Desk, list[str]]]]


@pytest.fixture
def start(
    database_url: str,
    make_desk: MakeDesk,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> Start:
    async def started(**extra: Any) -> tuple[Desk, list[str]]:
        overrides = telegram_overrides(fake_telegram, base_url=_by_name(fake_telegram))
        settings = make_settings(database_url, **overrides | PRODUCTION | extra)
        with caplog.at_level(logging.WARNING, logger="hub.assembly"):
            desk = await make_desk(settings=settings)
        said = [r.getMessage() for r in caplog.records if r.name == "hub.assembly"]
        return desk, said

    return started


async def _customer_writes_and_agent_replies(desk: Desk, text: str) -> int:
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    assert (await post_update(desk, update)).status == 200
    conversation = (await desk.inbound_messages())[-1].conversation_id
    answer = await desk.client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=auth(token)
    )
    assert answer.status == 201, await answer.text()
    reply_id: int = (await answer.json())["id"]

    async def settled() -> bool:
        return (await desk.message(reply_id)).delivery_state in ("sent", "failed")

    await eventually(settled, what="the reply sent or failed")
    return reply_id


async def test_a_reply_through_a_bot_api_resolving_to_a_loopback_address_fails_naming_it(
    start: Start, fake_telegram: FakeTelegram
) -> None:
    desk, warned = await start()
    assert any("channels.tg.base_url: localhost resolves to 127.0.0.1" in w for w in warned)

    reply_id = await _customer_writes_and_agent_replies(desk, "Looking into it.")
    reply = await desk.message(reply_id)
    assert reply.delivery_state == "failed"
    # localhost is 127.0.0.1 (or ::1 first, where the resolver says so): either is named.
    expected = {f"{_refused(ip, 'a loopback address')} (after 1 attempt(s))" for ip in LOOPBACK_IPS}
    assert reply.delivery_error in expected
    assert fake_telegram.calls == []  # nothing reached the fake Bot API


async def test_with_the_loopback_network_allowed_the_same_reply_is_delivered(
    start: Start, fake_telegram: FakeTelegram
) -> None:
    desk, warned = await start(**LOOPBACK)
    assert warned == []

    reply_id = await _customer_writes_and_agent_replies(desk, "Looking into it.")
    assert (await desk.message(reply_id)).delivery_state == "sent"
    [sent] = fake_telegram.sent("sendMessage")
    assert sent.params["text"] == "Looking into it."


async def test_polling_a_refused_bot_api_pauses_saying_why(
    start: Start, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    polling = {"channels.tg.mode": "polling", "channels.tg.poll_retry_seconds": 0.1}
    with caplog.at_level(logging.WARNING, logger="hub.chat.polling"):
        await start(**polling)
        paused = "telegram tg: polling paused: Telegram not reached: refused to connect: "

        async def said() -> bool:
            return any(paused in record.getMessage() for record in caplog.records)

        await eventually(said, what="polling paused naming the refusal")
    assert fake_telegram.calls == []


async def test_a_file_on_a_refused_download_address_is_not_fetched(
    start: Start, fake_telegram: FakeTelegram
) -> None:
    quick = {"chat_files.poll_seconds": 0.05, "chat_files.retry_seconds": 0.2}
    desk, _ = await start(**LOOPBACK, **quick, **{"channels.tg.base_file_url": METADATA})
    fake_telegram.add_file("photo-1", b"\xff\xd8\xff\xe0 a receipt")
    photo = [{"file_id": "photo-1", "file_unique_id": "p", "width": 640, "height": 480}]
    jane = {"id": 408258968, "is_bot": False, "first_name": "Jane"}
    message = {
        "message_id": 77,
        "date": int(time.time()),
        "chat": {"id": 408258968, "type": "private", "first_name": "Jane"},
        "from": jane,
        "photo": photo,
    }
    assert (await post_update(desk, {"update_id": 900, "message": message})).status == 200

    async def settled() -> bool:
        rows = await desk.count(ChatFileFetch, ChatFileFetch.state != "pending")
        return rows == 1

    await eventually(settled, what="the fetch settled")
    async with desk.hub.db.reader() as session:
        row = await session.scalar(select(ChatFileFetch))
    assert row is not None
    assert (row.state, row.attempts) == ("failed", 1)  # final: not tried again
    assert row.last_error == _refused("169.254.169.254", "a link-local address")
    assert fake_telegram.called("getFile")  # the Bot API answered where the file is ...
    assert fake_telegram.called("download") == []  # ... and nothing was fetched from there


# The hub reaches the Bot API only through the forward proxy the environment names (the fake
# answers as one): the name in base_url is the proxy's to resolve, the proxy's address the
# hub's to check.
THROUGH_A_PROXY = {"channels.tg.base_url": "http://api.telegram.invalid/bot"}


async def test_a_proxy_on_a_loopback_address_is_refused_like_the_bot_api(
    start: Start, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fake_telegram.url("/"))
    desk, _ = await start(**THROUGH_A_PROXY)
    reply = await desk.message(await _customer_writes_and_agent_replies(desk, "Found it."))
    refused = _refused("127.0.0.1", "a loopback address")
    assert reply.delivery_error == f"{refused} (after 1 attempt(s))"
    assert fake_telegram.calls == []


async def test_through_an_allowed_proxy_the_reply_goes_out(
    start: Start, fake_telegram: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", fake_telegram.url("/"))
    desk, _ = await start(**THROUGH_A_PROXY, **LOOPBACK)
    reply = await desk.message(await _customer_writes_and_agent_replies(desk, "Found it."))
    assert reply.delivery_state == "sent"
    [sent] = fake_telegram.sent("sendMessage")
    assert sent.params["text"] == "Found it."
