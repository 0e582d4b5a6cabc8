"""Telegram updates through the webhook: checked by the secret header, parsed with
python-telegram-bot's types, stored once however often they arrive."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Conversation, Customer, Identity
from tests.channels.telegram.conftest import (
    as_update,
    post_update,
    telegram_fixture,
)
from tests.support.desk import Desk


async def test_private_text_message_becomes_a_conversation(tg: Desk) -> None:
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    response = await post_update(tg, update)
    assert response.status == 200
    assert (await response.json())["stored"] == 1
    [message] = await tg.inbound_messages()  # committed before the answer
    assert (message.external_id, message.text) == ("408258968:154", "4")
    assert message.raw["chat"] == {
        "id": 408258968,
        "type": "private",
        "title": None,
        "group": False,
    }
    async with tg.hub.db.reader() as session:
        identity = await session.scalar(select(Identity))
        assert identity is not None
        assert (identity.kind, identity.address) == ("telegram", "408258968")
        customer = await session.get(Customer, identity.customer_id)
        assert customer is not None and customer.name == "Hirrolot"
        conversation = await session.scalar(select(Conversation))
        assert conversation is not None
        assert (conversation.channel, conversation.thread_key) == ("tg", "408258968")
        assert conversation.customer_id == customer.id


async def test_replayed_update_is_stored_once(tg: Desk) -> None:
    update = telegram_fixture("aiogram-v2-dataset", "update.json")
    first = await post_update(tg, update)
    again = await post_update(tg, update)
    assert (first.status, again.status) == (200, 200)
    assert (await again.json())["stored"] == 0
    # The same message in a new update (a re-sent delivery) is found by chat and message id.
    resent = await post_update(tg, {**update, "update_id": update["update_id"] + 1})
    assert resent.status == 200
    [message] = await tg.inbound_messages()
    assert (message.external_id, message.text) == ("12345678:11223", "Hi, world!")


async def test_wrong_or_missing_secret_is_refused_and_nothing_stored(tg: Desk) -> None:
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    for secret in (None, "", "webhook-secret_0123456789abcdefABCDEx"):
        response = await post_update(tg, update, secret=secret)
        assert response.status == 401
        error = (await response.json())["error"]
        assert error["code"] == "unauthorized"
        assert "X-Telegram-Bot-Api-Secret-Token" in error["message"]
    assert await tg.inbound_messages() == []


async def test_malformed_bodies_get_400_and_nothing_stored(tg: Desk) -> None:
    cases = [
        b'{"update_id": 1, "message": ',
        b"[1, 2]",
        b'{"message": {"text": "no update id"}}',
        b'{"update_id": 7, "message": {"message_id": 1, "text": "no chat, no date"}}',
    ]
    for body in cases:
        response = await post_update(tg, body)
        assert response.status == 400, body
        assert (await response.json())["error"]["code"] in {"invalid_json", "invalid_update"}
    assert await tg.inbound_messages() == []


async def test_unknown_channel_or_other_kind_is_404(tg: Desk) -> None:
    update = telegram_fixture("teloxide", "update_private_text_message.json")
    missing = await tg.client.post("/webhooks/telegram/nope", json=update)
    assert missing.status == 404
    other = await tg.client.post("/webhooks/telegram/api", json=update)
    assert other.status == 404
    assert (await other.json())["error"]["code"] == "unknown_channel"


async def test_edited_message_is_recorded_on_the_original(tg: Desk) -> None:
    # aiogram's REPLY_MESSAGE and EDITED_MESSAGE are the same message (chat 12345678, id 12345).
    original = as_update(500, telegram_fixture("aiogram-v2-dataset", "reply_message.json"))
    edit = as_update(
        501, telegram_fixture("aiogram-v2-dataset", "edited_message.json"), "edited_message"
    )
    assert (await post_update(tg, original)).status == 200
    assert (await post_update(tg, edit)).status == 200
    assert (await post_update(tg, edit)).status == 200  # replayed edit: recorded once
    [message] = await tg.inbound_messages()
    assert message.text == "hi there (edited)"
    assert [e["text"] for e in message.raw["edits"]] == ["Reply to quoted message"]


async def test_edit_of_a_message_never_seen_is_stored_as_a_message(tg: Desk) -> None:
    edit = as_update(
        9, telegram_fixture("aiogram-v2-dataset", "edited_message.json"), "edited_message"
    )
    assert (await post_update(tg, edit)).status == 200
    [message] = await tg.inbound_messages()
    assert (message.external_id, message.text) == ("12345678:12345", "hi there (edited)")


async def test_reply_threads_with_the_quoted_message(tg: Desk) -> None:
    first = as_update(1, telegram_fixture("aiogram-v2-dataset", "message.json"))
    reply = as_update(2, telegram_fixture("aiogram-v2-dataset", "reply_message.json"))
    await post_update(tg, first)
    await post_update(tg, reply)
    quoted, answer = await tg.inbound_messages()
    assert answer.conversation_id == quoted.conversation_id
    assert answer.text == "Reply to quoted message"


async def test_callback_button_is_a_message_and_the_spinner_is_answered(tg: Desk) -> None:
    query = telegram_fixture("teloxide", "callback_query.json")
    update = as_update(77, query, "callback_query")
    response = await post_update(tg, update)
    assert response.status == 200
    assert await response.json() == {"method": "answerCallbackQuery", "callback_query_id": "id"}
    assert (await post_update(tg, update)).status == 200
    [message] = await tg.inbound_messages()
    assert (message.external_id, message.text) == ("callback:id", "[button] some_data")
    async with tg.hub.db.reader() as session:
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None and conversation.thread_key == "12345"


async def test_group_chat_is_told_apart_from_private_chats(tg: Desk) -> None:
    base = telegram_fixture("aiogram-v2-dataset", "message.json")
    group = {"id": -1001234567890, "type": "supergroup", "title": "Acme customers"}
    second_user = {**base["from"], "id": 87654321, "first_name": "Other", "username": "other"}
    updates = [
        as_update(10, {**base, "chat": group, "message_id": 1, "text": "Our invoices are wrong"}),
        as_update(11, {**base, "chat": group, "message_id": 2, "from": second_user}),
        as_update(12, base),
    ]
    for update in updates:
        assert (await post_update(tg, update)).status == 200
    first, second, private = await tg.inbound_messages()
    assert first.raw["chat"]["group"] is True and first.raw["chat"]["type"] == "supergroup"
    assert private.raw["chat"]["group"] is False
    async with tg.hub.db.reader() as session:
        conversations = {c.id: c for c in (await session.scalars(select(Conversation))).all()}
    in_group = conversations[first.conversation_id], conversations[second.conversation_id]
    # One conversation per customer, both in the group's thread; the subject names the group.
    assert first.customer_id != second.customer_id
    assert {c.thread_key for c in in_group} == {"-1001234567890"}
    assert {c.subject for c in in_group} == {"Acme customers"}
    assert conversations[private.conversation_id].thread_key == "12345678"


async def test_bot_and_service_messages_are_ignored(tg: Desk) -> None:
    base = telegram_fixture("aiogram-v2-dataset", "message.json")
    bot = {**base["from"], "id": 999, "is_bot": True, "first_name": "SomeBot"}
    joined = {k: v for k, v in base.items() if k != "text"} | {"new_chat_members": [bot]}
    for update in (as_update(1, {**base, "from": bot}), as_update(2, joined)):
        response = await post_update(tg, update)
        assert response.status == 200
        assert (await response.json())["stored"] == 0
    assert await tg.inbound_messages() == []
