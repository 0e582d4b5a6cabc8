"""Rich replies on each channel: a Rasa-REST bot's buttons are an inline keyboard on Telegram and
a press comes back to the bot as its payload; a webhook bot's buttons reach the widget as
buttons; on channels without buttons the options are numbered (test_handoff.py)."""

from __future__ import annotations

import json
from typing import Any

from tests.channels.telegram.conftest import post_update, telegram_overrides
from tests.channels.web.widget_client import Visitor
from tests.conftest import make_settings
from tests.hub.bots.conftest import register
from tests.support.desk import MakeDesk
from tests.support.fake_bot import FakeBot
from tests.support.fake_telegram import FakeTelegram

CHAT = {"id": 408258968, "type": "private", "first_name": "Hirrolot"}
USER = {"id": 408258968, "is_bot": False, "first_name": "Hirrolot", "language_code": "en"}


def text_update(update_id: int, text: str) -> dict[str, Any]:
    message = {"message_id": update_id, "date": 1581448857, "chat": CHAT, "from": USER}
    return {"update_id": update_id, "message": {**message, "text": text}}


def press_update(update_id: int, data: str, shown_id: int) -> dict[str, Any]:
    shown = {"message_id": shown_id, "date": 1581448857, "chat": CHAT}
    query = {"id": f"q{update_id}", "from": USER, "chat_instance": "1", "data": data}
    return {"update_id": update_id, "callback_query": {**query, "message": shown}}


def rasa(body: Any) -> Any:
    if body["message"] == "/plan_pro":
        return [{"recipient_id": body["sender"], "text": "Pro it is."}]
    return [
        {
            "recipient_id": body["sender"],
            "text": "Which plan are you on?",
            "buttons": [
                {"title": "Basic", "payload": "/plan_basic"},
                {"title": "Pro", "payload": "/plan_pro"},
            ],
        }
    ]


async def test_a_rasa_bot_answers_with_an_inline_keyboard_and_hears_the_press(
    make_desk: MakeDesk, fake_bot: FakeBot, fake_telegram: FakeTelegram, database_url: str
) -> None:
    settings = make_settings(database_url, **telegram_overrides(fake_telegram))
    desk = await make_desk(settings=settings)
    await register(desk, name="rasa", kind="rasa", url=fake_bot.url("/webhooks/rest/webhook"),
                   channels=["tg"])  # fmt: skip
    fake_bot.answer = rasa
    assert (await post_update(desk, text_update(1, "hi"))).status == 200
    await desk.run_jobs()
    assert fake_bot.received[0].path == "/webhooks/rest/webhook"
    assert fake_bot.received[0].body["message"] == "hi"
    await fake_telegram.wait_until(lambda: fake_telegram.called("sendMessage"))
    [menu] = fake_telegram.called("sendMessage")
    assert menu.params["text"] == "Which plan are you on?\n"
    keyboard = menu.params["reply_markup"]
    keyboard = keyboard if isinstance(keyboard, dict) else json.loads(keyboard)
    assert keyboard["inline_keyboard"] == [
        [{"text": "Basic", "callback_data": "/plan_basic"}],
        [{"text": "Pro", "callback_data": "/plan_pro"}],
    ]

    assert (await post_update(desk, press_update(2, "/plan_pro", 99))).status == 200
    await desk.run_jobs()
    assert fake_bot.received[1].body["message"] == "/plan_pro"
    await fake_telegram.wait_until(lambda: len(fake_telegram.called("sendMessage")) == 2)
    assert fake_telegram.called("sendMessage")[1].params["text"] == "Pro it is.\n"


async def test_a_webhook_bot_shows_buttons_in_the_widget_and_hears_the_press(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(**{"channels.chat.offline_grace_seconds": 0})
    await register(desk, name="helper", kind="webhook", url=fake_bot.url("/events"),
                   channels=["chat"])  # fmt: skip
    fake_bot.answer = lambda body: (
        {"messages": [{"text": "Track your order?", "buttons": [
            {"title": "Yes", "payload": "track"},
            {"title": "Help centre", "url": "https://example.com/help"},
        ]}]}
        if body["event"] == "message.created"
        else {}
    )  # fmt: skip
    visitor = Visitor(desk.client, "/widget/chat/ws")
    await visitor.connect()
    await visitor.message("where is my parcel", "c-1")
    await desk.run_jobs()
    shown = await visitor.agent_text("Track your order?")
    assert shown["text"] == "Track your order?"
    assert shown["buttons"] == [
        {"title": "Yes", "payload": "track"},
        {"title": "Help centre", "url": "https://example.com/help"},
    ]
    await visitor.send({"type": "message", "id": "c-2", "text": "Yes", "button": "track"})
    await visitor.expect("ack")
    await desk.run_jobs()
    [pressed] = fake_bot.events("button.pressed")
    assert pressed["button"] == {"payload": "track"}
    await visitor.close()
