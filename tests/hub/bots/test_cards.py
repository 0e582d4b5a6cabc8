"""Cards and images from bots, on each channel: a photo with a caption and the keyboard on
Telegram (a text too long for a caption goes as its own message), a card frame in the widget,
a readable fallback (title, text, image link, numbered options) on channels without buttons.
Payloads Telegram had to cut come back whole; a card the hub cannot show is refused, whole."""

from __future__ import annotations

import json
from typing import Any

from hub.db.models import Role
from tests.channels.telegram.conftest import post_update, telegram_overrides
from tests.channels.web.widget_client import Visitor
from tests.conftest import make_settings
from tests.hub.bots.conftest import register
from tests.hub.bots.test_limits_and_figures import opened_by_bot
from tests.hub.bots.test_rich_replies import press_update, text_update
from tests.support.desk import MakeDesk, auth
from tests.support.fake_bot import FakeBot
from tests.support.fake_telegram import FakeTelegram

IMAGE = "https://shop.example.com/kettle.png"
LONG_PAYLOAD = "größe_" + "ü" * 40  # 46 characters, 86 bytes: more than callback_data holds


def card(text: str) -> dict[str, Any]:
    return {
        "card": {
            "title": "Kettle Pro",
            "text": text,
            "image": IMAGE,
            "buttons": [
                {"title": "Buy it", "payload": LONG_PAYLOAD},
                {"title": "Specs", "url": "https://shop.example.com/kettle"},
            ],
        }
    }


def keyboard_of(call: Any) -> list[list[dict[str, str]]]:
    markup = call.params["reply_markup"]
    found = markup if isinstance(markup, dict) else json.loads(markup)
    return list(found["inline_keyboard"])


async def test_a_card_on_telegram_is_a_captioned_photo_and_a_cut_payload_comes_back_whole(
    make_desk: MakeDesk, fake_bot: FakeBot, fake_telegram: FakeTelegram, database_url: str
) -> None:
    settings = make_settings(database_url, **telegram_overrides(fake_telegram))
    desk = await make_desk(settings=settings)
    await register(desk, name="shop", kind="webhook", url=fake_bot.url("/events"),
                   channels=["tg"])  # fmt: skip
    long_text = "All about it. " * 100  # 1400 characters: more than a caption holds
    fake_bot.answer = lambda body: (
        {"messages": [card("Boils in 90 seconds."), card(long_text)]}
        if body["event"] == "message.created"
        else {}
    )
    assert (await post_update(desk, text_update(1, "kettles?"))).status == 200
    await desk.run_jobs()
    await fake_telegram.wait_until(lambda: len(fake_telegram.called("sendPhoto")) == 2)
    await fake_telegram.wait_until(lambda: len(fake_telegram.called("sendMessage")) == 1)
    short, long = fake_telegram.called("sendPhoto")
    assert short.params["photo"] == IMAGE
    assert short.params["caption"] == "Kettle Pro\n\nBoils in 90 seconds."
    cut = LONG_PAYLOAD.encode()[:64].decode(errors="ignore")
    assert keyboard_of(short) == [
        [{"text": "Buy it", "callback_data": cut}],
        [{"text": "Specs", "url": "https://shop.example.com/kettle"}],
    ]
    assert long.params["caption"] == "Kettle Pro" and "reply_markup" not in long.params
    [rest] = fake_telegram.called("sendMessage")
    assert rest.params["text"] == long_text.strip()
    assert keyboard_of(rest)[0] == [{"text": "Buy it", "callback_data": cut}]

    assert (await post_update(desk, press_update(2, cut, 99))).status == 200
    await desk.run_jobs()
    [pressed] = fake_bot.events("button.pressed")
    assert pressed["button"] == {"payload": LONG_PAYLOAD}


async def test_a_rasa_bots_card_and_image_reach_the_widget_as_card_frames(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(**{"channels.chat.offline_grace_seconds": 0})
    await register(desk, name="rasa", kind="rasa", url=fake_bot.url("/webhooks/rest/webhook"),
                   channels=["chat"])  # fmt: skip
    fake_bot.answer = lambda body: [
        {"recipient_id": body["sender"], "custom": {"card": card("Boils in 90 seconds.")["card"]}},
        {"recipient_id": body["sender"], "text": "It looks like this", "image": IMAGE},
    ]
    visitor = Visitor(desk.client, "/widget/chat/ws")
    await visitor.connect()
    await visitor.message("kettles?", "c-1")
    await desk.run_jobs()
    shown = await visitor.agent_text("Boils in 90 seconds.")
    assert shown["card"] == {"title": "Kettle Pro", "image": IMAGE}
    assert shown["buttons"] == [
        {"title": "Buy it", "payload": LONG_PAYLOAD},
        {"title": "Specs", "url": "https://shop.example.com/kettle"},
    ]
    picture = await visitor.agent_text("It looks like this")
    assert picture["card"] == {"image": IMAGE} and "buttons" not in picture
    await visitor.close()


async def test_without_buttons_a_card_reads_as_text_with_numbered_options(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    conversation_id, bot = await opened_by_bot(desk, fake_bot)
    path = f"/api/v1/bots/conversations/{conversation_id}/messages"
    said = await desk.client.post(path, json=card("Boils in 90 seconds."), headers=bot)
    assert said.status == 201, await said.text()
    await desk.run_jobs()
    [sent] = await desk.wait_sent(1, channel="api")
    assert sent.text == (
        "Kettle Pro\n\nBoils in 90 seconds.\n\nImage: https://shop.example.com/kettle.png\n\n"
        "1. Buy it\n2. Specs (https://shop.example.com/kettle)\n\n"
        "Reply with the number of your choice.\n"
    )
    await desk.customer_writes("1")
    await desk.run_jobs()
    [pressed] = fake_bot.events("button.pressed")
    assert pressed["button"] == {"payload": LONG_PAYLOAD}


async def test_a_card_the_hub_cannot_show_is_refused_naming_the_field(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()
    conversation_id, bot = await opened_by_bot(desk, fake_bot)
    path = f"/api/v1/bots/conversations/{conversation_id}/messages"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "Hi", "card": {"title": "Kettle"}}, "card"),
        ({"card": {"title": "Kettle", "image": "ftp://example.com/k.png"}}, "card"),
        ({"card": {"title": "K" * 257}}, "card"),
        ({"card": {"title": "Kettle", "video": "https://example.com/k.mp4"}}, "card"),
        ({"text": "Look", "image": "javascript:alert(1)"}, "image"),
        ({"card": {"buttons": [{"title": f"B{i}"} for i in range(11)]}}, "card"),
    ]
    for body, field in cases:
        refused = await desk.client.post(path, json=body, headers=bot)
        assert refused.status == 422, (body, await refused.text())
        error = (await refused.json())["error"]
        assert any(name.startswith(field) for name in error.get("fields", {})), error
    # From a webhook answer: one bad message refuses the whole answer; nothing is sent.
    fake_bot.answer = lambda body: {
        "messages": [
            {"text": "First, the good one"},
            {"card": {"title": "Kettle", "carousel": []}},
        ]
    }
    await desk.customer_writes("and kettles?")
    await desk.run_jobs()
    assert desk.sent("api") == []
    _, admin = await desk.agent("auditor@example.com", role=Role.ADMIN, capacity=0)
    deliveries = await desk.client.get("/api/v1/bots/1/deliveries", headers=auth(admin))
    [last, *_] = (await deliveries.json())["deliveries"]
    assert last["outcome"] == "error"
    assert "messages[1].card.carousel: unknown element" in last["error"]
