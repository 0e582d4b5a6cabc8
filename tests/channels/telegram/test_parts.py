"""A message Telegram gets in several parts (long text cut in pieces, a card's photo then its
text) that fails part-way is finished by the retry, not started again: the customer sees each
part once, in order, and the hub's message points at the part that carries the keyboard."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from channels.base import Card, Choice, IdentityKind, OutboundMessage, Party
from channels.telegram.adapter import TelegramChannel, split_text
from hub.config.settings import Settings
from hub.db.models import Message, Role
from hub.outbound.outbox import LEASE_SECONDS, Dispatcher
from hub.platform.clock import ManualClock
from tests.channels.telegram.conftest import post_update, telegram_fixture
from tests.conftest import auth
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import Call
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually

CHAT = "408258968"  # the private chat of teloxide's update_private_text_message.json
IMAGE = "https://shop.example.com/kettle.png"


def seen(fake: FakeTelegram) -> list[str]:
    """What the customer has in the chat, in order: texts, and "photo" for a photo."""
    return [str(m.get("text", "photo" if "photo" in m else "?")) for m in fake.shown]


async def _message(desk: Desk, message_id: int) -> Message:
    async with desk.hub.db.reader() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def test_a_long_reply_whose_second_part_fails_is_resumed_not_repeated(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await tg.agent("lead@example.com", role=Role.SUPERVISOR)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    assert (await post_update(tg, update)).status == 200
    conversation = (await tg.inbound_messages())[-1].conversation_id
    text = "\n".join(f"Step {n}: " + " ".join(["check the cable."] * 40) for n in range(1, 16))
    parts = split_text(text)
    assert len(parts) == 3
    fake_telegram.fail(500, methods=("sendMessage",), text=parts[1])  # once: Telegram had a blip

    response = await tg.client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=auth(token)
    )
    assert response.status == 201, await response.text()
    reply_id: int = (await response.json())["id"]

    async def sent() -> bool:
        return (await _message(tg, reply_id)).delivery_state == "sent"

    await eventually(sent, what="the reply sent after the retry")
    assert seen(fake_telegram) == parts  # each part once, in order
    tried = [call.params["text"] for call in fake_telegram.sent()]
    assert tried == [parts[0], parts[1], parts[1], parts[2]]  # the retry began at part 2
    message = await _message(tg, reply_id)
    keys = [f"{CHAT}:{shown['message_id']}" for shown in fake_telegram.shown]
    assert message.external_id == keys[-1]
    assert message.raw["delivered_parts"] == keys


async def test_a_cards_text_that_fails_after_its_photo_goes_alone_with_the_keyboard(
    telegram_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    channel = TelegramChannel("tg", telegram_settings.channels["tg"])  # type: ignore[arg-type]
    message = OutboundMessage(
        message_id=7,
        channel="tg",
        recipient=Party(IdentityKind.TELEGRAM, CHAT),
        text="Kettle Pro boils a litre in 90 seconds. " * 40,  # too long for a caption
        thread_key=CHAT,
        choices=(Choice("Buy it", "buy"),),
        card=Card("Kettle Pro", IMAGE),
    )
    await channel.start()
    try:
        fake_telegram.fail(502, methods=("sendMessage",))
        first = await channel.send(message)
        assert not first.ok and not first.permanent
        [photo_key] = first.delivered
        assert seen(fake_telegram) == ["photo"]

        second = await channel.send(_resumed(message, first.delivered))
    finally:
        await channel.stop()
    assert second.ok, second.error
    assert seen(fake_telegram) == ["photo", message.text.strip()]
    assert len(fake_telegram.sent("sendPhoto")) == 1
    text_key = f"{CHAT}:{fake_telegram.shown[-1]['message_id']}"
    assert second.delivered == (photo_key, text_key)
    assert second.external_id == text_key  # the part with the keyboard
    assert "reply_markup" in fake_telegram.sent()[-1].params


async def test_a_retry_of_a_message_already_wholly_delivered_sends_nothing_more(
    telegram_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    channel = TelegramChannel("tg", telegram_settings.channels["tg"])  # type: ignore[arg-type]
    message = OutboundMessage(
        message_id=8,
        channel="tg",
        recipient=Party(IdentityKind.TELEGRAM, CHAT),
        text="word " * 1000,
        thread_key=CHAT,
    )
    await channel.start()
    try:
        first = await channel.send(message)
        again = await channel.send(_resumed(message, first.delivered))
    finally:
        await channel.stop()
    assert first.ok and again.ok
    assert len(fake_telegram.shown) == 2
    assert again.external_id == first.external_id and again.delivered == first.delivered


def _resumed(message: OutboundMessage, delivered: tuple[str, ...]) -> OutboundMessage:
    """The message as the outbox hands it to the next try."""
    fields: dict[str, Any] = {
        name: getattr(message, name) for name in OutboundMessage.__dataclass_fields__
    }
    return OutboundMessage(**fields | {"delivered": delivered})


async def test_a_hub_killed_between_two_parts_sends_only_the_rest_after_the_restart(
    make_desk: MakeDesk, telegram_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    clock = ManualClock(datetime.now(UTC).replace(microsecond=0))
    desk = await make_desk(clock, settings=telegram_settings, workers=False)
    _, token = await desk.agent("lead@example.com", role=Role.SUPERVISOR)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    assert (await post_update(desk, update)).status == 200
    conversation = (await desk.inbound_messages())[-1].conversation_id
    text = "\n".join(f"Step {n}: " + " ".join(["check the cable."] * 40) for n in range(1, 16))
    parts = split_text(text)
    never = asyncio.Event()

    async def hang_on_part_two(call: Call) -> None:
        if call.params.get("text") == parts[1]:
            await never.wait()  # the hub dies meanwhile; the cut call never reached Telegram
            raise web.HTTPBadGateway()  # (had it, that part alone would show twice)

    fake_telegram.on_send = hang_on_part_two
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=auth(token)
    )
    assert response.status == 201, await response.text()
    reply_id: int = (await response.json())["id"]

    hub = desk.hub
    dead = Dispatcher(hub.db, hub.channels, hub.settings.outbox, hub.clock)
    [claim] = await dead.queue.claim()
    dying = asyncio.create_task(dead.prepare(claim))
    await fake_telegram.wait_until(lambda: len(fake_telegram.sent()) == 2)
    dying.cancel()  # the kill: part 1 shown, part 2 sent off but never answered
    with contextlib.suppress(asyncio.CancelledError):
        await dying
    fake_telegram.on_send = None
    never.set()
    assert seen(fake_telegram) == parts[:1]

    clock.advance(timedelta(seconds=LEASE_SECONDS + 1))  # the dead worker's lease runs out
    restarted = Dispatcher(hub.db, hub.channels, hub.settings.outbox, hub.clock)
    assert await restarted.run_once() == 1
    assert seen(fake_telegram) == parts  # part 1 was not sent again
    message = await _message(desk, reply_id)
    assert message.delivery_state == "sent"
    assert message.external_id == f"{CHAT}:{fake_telegram.shown[-1]['message_id']}"
