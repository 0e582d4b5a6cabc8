"""A bot on Slack: its buttons and cards go out as Block Kit through chat.postMessage, and a
press on a button comes back through the interactivity route (form-encoded ``payload=``,
signed like events, checked before it is read) as a ``button.pressed`` event to the bot,
stored once however often Slack delivers it."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientResponse
from sqlalchemy import select

from hub.db.models import Message
from tests.channels.slack.conftest import post_event, slack_fixture
from tests.hub.bots import conftest as bots
from tests.support.desk import Desk
from tests.support.fake_bot import FakeBot
from tests.support.fake_slack import FakeSlack, signed_headers
from tests.support.poll import eventually

fake_bot = bots.fake_bot  # the fake bot on a local server, as the bot stories have it
CUSTOMER = "W111"
ROOT_TS = "1596183880.004200"


def card_answer(body: Any) -> Any:
    if body["event"] != "message.created":
        return {}
    card = {
        "title": "Kettle Pro <2L>",
        "text": "Boils in 90 seconds & keeps warm.",
        "image": "https://shop.example.com/kettle.png",
        "buttons": [
            {"title": "Buy it", "payload": "buy_kettle"},
            {"title": "Specs", "url": "https://shop.example.com/kettle"},
        ],
    }
    return {"messages": [{"card": card}]}


def press(message_ts: str, value: str, title: str, action_ts: str) -> dict[str, Any]:
    """Bolt's block_actions sample, pressed by the customer on the bot's message in the thread."""
    payload = slack_fixture("interactivity_block_actions.json")
    payload["user"] = {**payload["user"], "id": CUSTOMER}
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": "C111",
        "is_ephemeral": False,
        "thread_ts": ROOT_TS,
    }
    [action] = payload["actions"]
    payload["actions"] = [
        {
            **action,
            "action_id": "relaydesk_choice_0",
            "text": {**action["text"], "text": title},
            "value": value,
            "action_ts": action_ts,
        }
    ]
    return payload


async def post_press(
    desk: Desk,
    payload: dict[str, Any],
    headers: dict[str, str] | None = None,
    path: str = "/webhooks/slack/sl/interactivity",
) -> ClientResponse:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    sent = headers if headers is not None else signed_headers(body)
    sent = sent | {"Content-Type": "application/x-www-form-urlencoded"}
    return await desk.client.post(path, data=body, headers=sent)


async def shown_by(desk: Desk, bot: str) -> Message:
    """The bot's first message, once Slack took it (its external id is ``C111:<ts>``)."""

    async def said() -> Message | None:
        async with desk.db.reader() as session:
            rows = await session.scalars(
                select(Message).where(Message.direction == "outbound").order_by(Message.id)
            )
            found = [m for m in rows if (m.raw or {}).get("bot") == bot and m.external_id]
            return found[0] if found else None

    async def sent() -> bool:
        return await said() is not None

    await eventually(sent, what="the bot's message sent")
    found = await said()
    assert found is not None
    return found


def blocks_of(call: Any) -> list[dict[str, Any]]:
    found = call.params["blocks"]
    return list(found if isinstance(found, list) else json.loads(found))


async def test_a_webhook_bots_card_is_block_kit_and_a_press_comes_back_once(
    sl: Desk, fake_slack: FakeSlack, fake_bot: FakeBot
) -> None:
    await bots.register(
        sl, name="shop", kind="webhook", url=fake_bot.url("/events"), channels=["sl"]
    )
    fake_bot.answer = card_answer
    assert (
        await post_event(sl, slack_fixture("event_callback_message_channel.json"))
    ).status == 200
    await sl.run_jobs()
    [post] = await fake_slack.wait_for_posts(1)
    assert (post.params["channel"], post.params["thread_ts"]) == ("C111", ROOT_TS)
    assert post.params["text"] == "Boils in 90 seconds & keeps warm."
    assert blocks_of(post) == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Kettle Pro &lt;2L&gt;*"}},
        {
            "type": "image",
            "image_url": "https://shop.example.com/kettle.png",
            "alt_text": "Kettle Pro <2L>",
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Boils in 90 seconds &amp; keeps warm."},
        },
        {
            "type": "actions",
            "block_id": "relaydesk_choices",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Buy it", "emoji": True},
                    "action_id": "relaydesk_choice_0",
                    "value": "buy_kettle",
                },
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Specs", "emoji": True},
                    "action_id": "relaydesk_choice_1",
                    "url": "https://shop.example.com/kettle",
                },
            ],
        },
    ]
    said = await shown_by(sl, "shop")
    shown_ts = str(said.external_id).partition(":")[2]
    clicked = press(shown_ts, "buy_kettle", "Buy it", "1596530385.194939")
    assert (await post_press(sl, clicked)).status == 200
    assert (await post_press(sl, clicked)).status == 200  # Slack delivered it twice
    await sl.run_jobs()
    [pressed] = fake_bot.events("button.pressed")
    assert pressed["button"] == {"payload": "buy_kettle"}
    assert pressed["conversation"]["id"] == said.conversation_id
    presses = [m for m in await sl.inbound_messages() if m.raw.get("button")]
    assert [(m.text, m.conversation_id) for m in presses] == [("Buy it", said.conversation_id)]


async def test_a_rasa_bots_buttons_on_slack_and_the_press_as_its_payload(
    sl: Desk, fake_slack: FakeSlack, fake_bot: FakeBot
) -> None:
    await bots.register(sl, name="rasa", kind="rasa", url=fake_bot.url("/webhooks/rest/webhook"),
                   channels=["sl"])  # fmt: skip
    fake_bot.answer = lambda body: (
        [{"text": "Pro it is."}]
        if body["message"] == "/plan_pro"
        else [{"text": "Which plan?", "buttons": [{"title": "Basic", "payload": "/plan_basic"},
                                                  {"title": "Pro", "payload": "/plan_pro"}]}]
    )  # fmt: skip
    assert (
        await post_event(sl, slack_fixture("event_callback_message_channel.json"))
    ).status == 200
    await sl.run_jobs()
    [menu] = await fake_slack.wait_for_posts(1)
    assert menu.params["text"] == "Which plan?"
    [_, actions] = blocks_of(menu)
    assert [(b["text"]["text"], b["value"]) for b in actions["elements"]] == [
        ("Basic", "/plan_basic"),
        ("Pro", "/plan_pro"),
    ]
    shown = await shown_by(sl, "rasa")
    shown_ts = str(shown.external_id).partition(":")[2]
    # An app may give one Request URL for events and interactivity: the press is heard there.
    pro = press(shown_ts, "/plan_pro", "Pro", "1596530390.1")
    assert (await post_press(sl, pro, path="/webhooks/slack/sl")).status == 200
    await sl.run_jobs()
    assert fake_bot.received[-1].body["message"] == "/plan_pro"
    await fake_slack.wait_for_posts(2)
    assert fake_slack.posted()[1].params["text"].startswith("Pro it is.")


async def test_a_press_with_a_bad_or_stale_signature_is_refused_and_not_read(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    payload = press("1596183999.000100", "buy_kettle", "Buy it", "1596530385.194939")
    body = urlencode({"payload": json.dumps(payload)}).encode()
    forged = signed_headers(body, "not-the-signing-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    garbage = signed_headers(b"payload=%7Bnot-json") | {"X-Slack-Signature": "v0=00"}
    for headers in (forged, stale, {}):
        refused = await post_press(sl, payload, headers)
        assert refused.status == 401, await refused.text()
        assert (await refused.json())["error"]["code"] == "invalid_signature"
    refused = await sl.client.post(
        "/webhooks/slack/sl/interactivity", data=b"payload=%7Bnot-json", headers=garbage
    )
    assert refused.status == 401  # the signature is checked before the body is read
    signed_garbage = b"payload=%7Bnot-json"
    bad = await sl.client.post(
        "/webhooks/slack/sl/interactivity",
        data=signed_garbage,
        headers=signed_headers(signed_garbage),
    )
    assert bad.status == 400
    assert "payload" in (await bad.json())["error"]["fields"]
    assert await sl.inbound_messages() == []


async def test_hostile_presses_are_refused_naming_the_problem_and_store_nothing(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    sample = press("1596183999.000100", "buy_kettle", "Buy it", "1596530385.194939")
    bodies = [
        b"payload=" + b"%5B" * 5000 + b"%5D" * 5000,  # nested past the strict reader's depth
        b"&".join(b"f%d=1" % i for i in range(100)),  # more fields than a press has
        urlencode({"payload": "[1, 2]"}).encode(),
        urlencode({"payload": json.dumps({**sample, "user": "W111"})}).encode(),
        urlencode({"payload": json.dumps({**sample, "container": {}, "channel": None})}).encode(),
        b"\xff\xfe",
    ]
    for body in bodies:
        refused = await sl.client.post(
            "/webhooks/slack/sl/interactivity", data=body, headers=signed_headers(body)
        )
        assert refused.status == 400, (body[:40], await refused.text())
        assert (await refused.json())["error"]["fields"], body[:40]
    other = urlencode({"payload": json.dumps({"type": "view_submission", "user": {}})}).encode()
    ignored = await sl.client.post(
        "/webhooks/slack/sl/interactivity", data=other, headers=signed_headers(other)
    )
    assert ignored.status == 200
    assert await sl.inbound_messages() == []
