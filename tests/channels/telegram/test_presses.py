"""A customer presses a quick reply under a bot's message: the spinner stops, the quick replies
leave that message (its link buttons stay) so it cannot be pressed a second time, and a press
Telegram delivers twice is still one message for the hub."""

from __future__ import annotations

import json
from typing import Any

from tests.channels.telegram.conftest import post_update
from tests.support.desk import Desk
from tests.support.fake_telegram import FakeTelegram

CUSTOMER = {"id": 408258968, "is_bot": False, "first_name": "Hirrolot"}
CHAT = {"id": 408258968, "type": "private", "first_name": "Hirrolot"}
KEYBOARD = [
    [{"text": "Basic", "callback_data": "/plan_basic"}],
    [{"text": "Pro", "callback_data": "/plan_pro"}],
    [{"text": "Compare plans", "url": "https://shop.example.com/plans"}],
]


def press(update_id: int, data: str, *, date: int = 1581448857) -> dict[str, Any]:
    shown = {
        "message_id": 1_500_000_001,
        "date": date,  # 0: a message Telegram no longer shows (older than 48 hours)
        "chat": CHAT,
        "text": "Which plan are you on?",
        "reply_markup": {"inline_keyboard": KEYBOARD},
    }
    query = {"id": f"q{update_id}", "from": CUSTOMER, "chat_instance": "1", "data": data}
    return {"update_id": update_id, "callback_query": {**query, "message": shown}}


async def test_a_pressed_keyboard_keeps_only_its_links_and_a_repeated_press_is_one_message(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    update = press(5, "/plan_pro")
    response = await post_update(tg, update)
    assert await response.json() == {"method": "answerCallbackQuery", "callback_query_id": "q5"}
    [edit] = fake_telegram.called("editMessageReplyMarkup")
    assert (edit.chat_id, edit.params["message_id"]) == ("408258968", "1500000001")
    markup = json.loads(edit.params["reply_markup"])
    assert markup == {"inline_keyboard": [KEYBOARD[2]]}  # the link stays

    assert (await post_update(tg, update)).status == 200  # Telegram delivers it again
    [stored] = await tg.inbound_messages()
    assert stored.text == "[button] /plan_pro"
    assert len(fake_telegram.called("editMessageReplyMarkup")) == 1


async def test_a_keyboard_of_quick_replies_alone_goes_entirely(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    update = press(6, "/plan_basic")
    update["callback_query"]["message"]["reply_markup"] = {"inline_keyboard": KEYBOARD[:2]}
    assert (await post_update(tg, update)).status == 200
    [edit] = fake_telegram.called("editMessageReplyMarkup")
    assert "reply_markup" not in edit.params  # no markup: the keyboard is removed


async def test_a_press_on_a_message_telegram_no_longer_shows_is_stored_without_an_edit(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    assert (await post_update(tg, press(7, "/plan_pro", date=0))).status == 200
    assert len(await tg.inbound_messages()) == 1
    assert fake_telegram.called("editMessageReplyMarkup") == []


async def test_an_edit_telegram_refuses_does_not_lose_the_press(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.fail(400, methods=("editMessageReplyMarkup",))
    response = await post_update(tg, press(8, "/plan_pro"))
    assert await response.json() == {"method": "answerCallbackQuery", "callback_query_id": "q8"}
    [stored] = await tg.inbound_messages()
    assert stored.text == "[button] /plan_pro"


async def test_a_double_tap_before_the_keyboard_left_is_one_press(
    tg: Desk, fake_telegram: FakeTelegram
) -> None:
    first, second = press(9, "/plan_pro"), press(10, "/plan_basic")  # two callback queries
    for update in (first, second):
        response = await post_update(tg, update)
        query_id = update["callback_query"]["id"]  # each tap's spinner is stopped
        assert (await response.json())["callback_query_id"] == query_id
    [stored] = await tg.inbound_messages()
    assert stored.text == "[button] /plan_pro"  # the first tap counts
    assert stored.external_id == "press:408258968:1500000001"
