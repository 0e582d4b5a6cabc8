"""Agent replies and acknowledgements out through python-telegram-bot's Bot, pointed at the
fake Bot API: the right chat, files as photos and documents, Telegram's limits and 429s."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from aiohttp.test_utils import TestClient

from channels.base import Attachment, IdentityKind, OutboundMessage, Party
from channels.telegram.adapter import TelegramChannel
from hub.config.settings import Settings
from hub.db.models import Message, Role
from tests.channels.telegram.conftest import (
    as_update,
    post_update,
    telegram_fixture,
    telegram_overrides,
)
from tests.conftest import auth, make_settings
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Acme customers"}


async def _conversation_from(desk: Desk, update: dict[str, Any]) -> int:
    assert (await post_update(desk, update)).status == 200
    messages = await desk.inbound_messages()
    return messages[-1].conversation_id


async def _reply(client: TestClient[Any, Any], token: str, conversation: int, text: str) -> int:
    response = await client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=auth(token)
    )
    assert response.status == 201, await response.text()
    message_id: int = (await response.json())["id"]
    return message_id


async def _message(desk: Desk, message_id: int) -> Message:
    async with desk.hub.db.reader() as session:
        message = await session.get(Message, message_id)
        assert message is not None
        return message


async def test_agent_reply_reaches_the_group_chat(tg: Desk, fake_telegram: FakeTelegram) -> None:
    _, token = await tg.agent("lead@example.com", role=Role.SUPERVISOR)
    base = telegram_fixture("aiogram-v2-dataset", "message.json")
    conversation = await _conversation_from(tg, as_update(1, {**base, "chat": GROUP}))
    reply_id = await _reply(tg.client, token, conversation, "We are on it.")
    [sent] = await fake_telegram.wait_for("sendMessage", 1)
    assert sent.chat_id == "-1001234567890"  # the group, not the customer's private chat
    assert sent.params["text"].startswith("We are on it.")

    async def delivered() -> bool:
        return (await _message(tg, reply_id)).delivery_state == "sent"

    await eventually(delivered, what="reply marked sent")
    message = await _message(tg, reply_id)
    assert message.external_id is not None
    assert message.external_id.startswith("-1001234567890:")


async def test_acknowledgement_goes_to_the_private_chat(
    database_url: str, fake_telegram: FakeTelegram, make_desk: MakeDesk
) -> None:
    settings = make_settings(database_url, **telegram_overrides(fake_telegram, ack_template="ack"))
    desk = await make_desk(settings=settings)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    assert (await post_update(desk, update)).status == 200
    [ack] = await fake_telegram.wait_for("sendMessage", 1)
    assert ack.chat_id == "408258968"
    assert "Hirrolot" in ack.params["text"]


async def test_flood_control_429_is_retried_after_the_time_telegram_asks(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await tg.agent("lead@example.com", role=Role.SUPERVISOR)
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    conversation = await _conversation_from(tg, update)
    fake_telegram.fail(429, retry_after=1, chat_id="408258968")
    reply_id = await _reply(tg.client, token, conversation, "Hello again")

    async def waiting() -> bool:
        return "429" in ((await _message(tg, reply_id)).delivery_error or "")

    await eventually(waiting, what="429 visible on the message")
    refused_at = fake_telegram.sent()[0].at
    [_, delivered] = await fake_telegram.wait_for("sendMessage", 2)
    assert delivered.at - refused_at >= 0.9

    async def sent() -> bool:
        return (await _message(tg, reply_id)).delivery_state == "sent"

    await eventually(sent, what="reply sent after the pause")


async def test_a_paused_chat_does_not_hold_up_other_chats(
    telegram_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    channel = TelegramChannel("tg", telegram_settings.channels["tg"])  # type: ignore[arg-type]
    await channel.start()
    try:
        fake_telegram.fail(429, retry_after=30, chat_id="111")
        first = await channel.send(_outbound(1, "111", "one"))
        assert not first.ok and first.retry_after == 30 and not first.permanent
        # The same chat is not even tried while paused; another chat goes straight out.
        again, other = await asyncio.gather(
            channel.send(_outbound(2, "111", "two")), channel.send(_outbound(3, "222", "three"))
        )
        assert not again.ok and again.retry_after is not None and again.retry_after > 25
        assert other.ok
        assert [c.chat_id for c in fake_telegram.sent()] == ["111", "222"]
    finally:
        await channel.stop()


async def test_one_message_a_second_per_chat_without_waiting_on_other_chats(
    database_url: str, fake_telegram: FakeTelegram
) -> None:
    overrides = telegram_overrides(
        fake_telegram, chat_interval_seconds=0.5, max_pacing_wait_seconds=1.5
    )
    config = make_settings(database_url, **overrides).channels["tg"]
    channel = TelegramChannel("tg", config)  # type: ignore[arg-type]
    await channel.start()
    try:
        results = await asyncio.gather(
            *(channel.send(_outbound(n, "111", f"a{n}")) for n in range(3)),
            channel.send(_outbound(9, "222", "b")),
        )
        assert all(r.ok for r in results)
        to_a = [c.at for c in fake_telegram.sent() if c.chat_id == "111"]
        to_b = [c.at for c in fake_telegram.sent() if c.chat_id == "222"]
        gaps = [later - earlier for earlier, later in itertools.pairwise(to_a)]
        assert len(to_a) == 3 and all(gap >= 0.4 for gap in gaps)  # arrivals jitter a little
        assert to_b[0] < to_a[1]  # chat 222 did not queue behind chat 111
        # A slot further off than max_pacing_wait_seconds goes back to the outbox instead.
        deferred = [channel.send(_outbound(n, "111", "later")) for n in range(10, 15)]
        outcomes = await asyncio.gather(*deferred)
        assert any(not r.ok and r.retry_after and not r.permanent for r in outcomes)
    finally:
        await channel.stop()


async def test_refusals_are_final_and_server_errors_are_retried(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    _, token = await tg.agent("lead@example.com", role=Role.SUPERVISOR)
    conversation = await _conversation_from(
        tg, telegram_fixture("teloxide", "update_private_text_message.json")
    )
    fake_telegram.fail(500)
    retried = await _reply(tg.client, token, conversation, "first")
    await fake_telegram.wait_for("sendMessage", 2)

    async def sent() -> bool:
        return (await _message(tg, retried)).delivery_state == "sent"

    await eventually(sent, what="sent after a 500")
    fake_telegram.fail(403)
    blocked = await _reply(tg.client, token, conversation, "second")

    async def failed() -> bool:
        return (await _message(tg, blocked)).delivery_state == "failed"

    await eventually(failed, what="403 marked failed")
    listed = await tg.client.get(
        f"/api/v1/conversations/{conversation}/messages", headers=auth(token)
    )
    [shown] = [m for m in (await listed.json())["items"] if m["id"] == blocked]
    assert "bot was blocked by the user" in shown["delivery_error"]
    assert "after 1 attempt" in shown["delivery_error"]


async def test_files_go_out_as_photo_and_document_and_long_text_is_split(
    telegram_settings: Settings, fake_telegram: FakeTelegram
) -> None:
    channel = TelegramChannel("tg", telegram_settings.channels["tg"])  # type: ignore[arg-type]
    await channel.start()
    try:
        photo = Attachment("screenshot.png", "image/png", 4, content=b"\x89PNG")
        document = Attachment("terms.pdf", "application/pdf", 8, content=b"%PDF-1.7")
        text = ("word " * 1000).strip()  # 4999 characters: two messages
        result = await channel.send(_outbound(1, "408258968", text, (photo, document)))
        assert result.ok, result.error
    finally:
        await channel.stop()
    texts = fake_telegram.sent("sendMessage")
    assert len(texts) == 2 and all(len(c.params["text"]) <= 4096 for c in texts)
    assert " ".join(c.params["text"] for c in texts) == text
    [sent_photo] = fake_telegram.sent("sendPhoto")
    assert sent_photo.files["photo"] == ("screenshot.png", b"\x89PNG")
    [sent_document] = fake_telegram.sent("sendDocument")
    assert sent_document.files["document"] == ("terms.pdf", b"%PDF-1.7")
    assert {c.chat_id for c in fake_telegram.calls} == {"408258968"}
    assert result.external_id == f"408258968:{fake_telegram.issued[-1]}"


def _outbound(
    message_id: int, chat: str, text: str, attachments: tuple[Attachment, ...] = ()
) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        channel="tg",
        recipient=Party(IdentityKind.TELEGRAM, chat),
        text=text,
        thread_key=chat,
        attachments=attachments,
    )
