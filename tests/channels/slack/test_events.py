"""Slack Events API deliveries through the Bolt app mounted in the hub: signed for real,
acknowledged only after the commit, stored once whatever Slack retries."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy import select

from hub.db.models import Conversation, Identity
from tests.channels.slack.conftest import post_event, slack_fixture
from tests.support.desk import Desk
from tests.support.fake_slack import signed_headers


async def test_url_verification_is_answered_with_the_challenge(sl: Desk) -> None:
    response = await post_event(sl, slack_fixture("url_verification.json"))
    assert response.status == 200
    assert await response.json() == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    }


async def test_channel_message_is_stored_before_the_ack(sl: Desk) -> None:
    response = await post_event(sl, slack_fixture("event_callback_message_channel.json"))
    assert response.status == 200
    [message] = await sl.inbound_messages()  # committed by the time Slack gets its 200
    assert (message.external_id, message.text) == ("C111:1596183880.004200", "Hello World!")
    assert message.raw["event_id"] == "Ev111"
    async with sl.hub.db.reader() as session:
        identity = await session.scalar(select(Identity))
        assert identity is not None
        assert (identity.kind, identity.address) == ("slack", "W111")
        assert identity.customer_id == message.customer_id
        conversation = await session.get(Conversation, message.conversation_id)
        assert conversation is not None
        assert conversation.thread_key == "C111:1596183880.004200"


async def test_retries_and_twin_events_never_duplicate(sl: Desk) -> None:
    event = slack_fixture("event_callback_message_channel.json")
    assert (await post_event(sl, event)).status == 200
    for retry in ("1", "2"):
        response = await post_event(
            sl,
            event,
            extra_headers={"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"},
        )
        assert response.status == 200
    # The app_mention Slack sends for the same message has its own event_id.
    mention = {**event, "event_id": "Ev999", "event": {**event["event"], "type": "app_mention"}}
    assert (await post_event(sl, mention)).status == 200
    assert len(await sl.inbound_messages()) == 1


async def test_bad_signatures_and_malformed_bodies_store_nothing(sl: Desk) -> None:
    body = json.dumps(slack_fixture("event_callback_message_channel.json")).encode()
    wrong = signed_headers(body, secret="not-the-signing-secret")
    stale = signed_headers(body, timestamp=int(time.time()) - 6 * 60)
    tampered = signed_headers(body.replace(b"Hello", b"Howdy"))
    missing = {"Content-Type": "application/json"}
    for headers in (wrong, stale, tampered, missing):
        response = await post_event(sl, body, headers=headers)
        assert response.status == 401
        assert (await response.json())["error"]["code"] == "invalid_signature"
    broken = b'{"type": "event_callback", "event": {'
    response = await post_event(sl, broken)
    assert response.status == 400
    assert (await response.json())["error"]["code"] == "invalid_json"
    assert (await post_event(sl, broken, headers=missing)).status == 401
    no_user = slack_fixture("event_callback_message_channel.json")
    del no_user["event"]["user"]
    response = await post_event(sl, no_user)
    assert response.status == 400
    assert (await response.json())["error"]["fields"] == {
        "event.user": "is required and must be a non-empty string"
    }
    assert await sl.inbound_messages() == []


async def test_bot_messages_and_other_events_are_acknowledged_and_ignored(sl: Desk) -> None:
    own = slack_fixture("event_callback_message_user.json")
    own["event"] = {**own["event"], "user": "UBOT111", "ts": "1610261659.009999"}
    for payload in (
        slack_fixture("event_callback_message_bot.json"),
        slack_fixture("event_callback_message_classic_bot.json"),
        slack_fixture("event_callback_reaction_added.json"),
        slack_fixture("event_callback_self_app_mention.json"),
        own,
    ):
        response = await post_event(sl, payload)
        assert response.status == 200, payload["event_id"]
    assert await sl.inbound_messages() == []


async def test_shared_files_are_listed_as_attachments(sl: Desk) -> None:
    response = await post_event(sl, slack_fixture("event_callback_message_file_share.json"))
    assert response.status == 200
    [message] = await sl.inbound_messages()
    assert message.text == "Hi there!"
    assert [_listed(meta) for meta in message.attachments] == [
        {
            "filename": "file.png",
            "content_type": "image/png",
            "size": 92582,
            "content_id": "F111",
            "inline": False,
        }
    ]


def _listed(meta: dict[str, Any]) -> dict[str, Any]:
    """The metadata ingest lists (the file fetch adds whether the content was kept)."""
    return {key: meta[key] for key in ("filename", "content_type", "size", "content_id", "inline")}


async def test_files_over_the_size_cap_are_named_and_listed(sl: Desk) -> None:
    payload = slack_fixture("event_callback_message_file_share.json")
    payload["event"]["files"][0]["size"] = 64 * 1024 * 1024
    assert (await post_event(sl, payload)).status == 200
    [message] = await sl.inbound_messages()
    assert [(a["filename"], a["size"]) for a in message.attachments] == [
        ("file.png", 64 * 1024 * 1024)
    ]
    assert message.text == "Hi there!\n[file.png (64.0 MB) not kept: larger than 20.0 MB]"


async def test_edit_is_recorded_on_the_original_message(sl: Desk) -> None:
    changed = slack_fixture("event_callback_message_changed.json")
    previous = changed["event"]["previous_message"]
    original = slack_fixture("event_callback_message_channel.json")
    original["event"] = {**original["event"], "ts": previous["ts"], "text": previous["text"]}
    original["event"]["user"] = previous["user"]
    assert (await post_event(sl, original)).status == 200
    assert (await post_event(sl, changed)).status == 200
    assert (await post_event(sl, changed, extra_headers={"X-Slack-Retry-Num": "1"})).status == 200
    [message] = await sl.inbound_messages()
    assert message.text == "updated message"
    assert [edit["text"] for edit in message.raw["edits"]] == ["original message"]


def _in_thread(base: dict[str, Any], ts: str, thread_ts: str, text: str) -> dict[str, Any]:
    event = {**base["event"], "ts": ts, "thread_ts": thread_ts, "text": text}
    return {**base, "event_id": f"Ev-{ts}", "event": event}


async def test_a_thread_is_one_conversation_and_a_dm_is_its_own(sl: Desk) -> None:
    base = slack_fixture("event_callback_message_channel.json")
    parent_ts = base["event"]["ts"]
    reply = _in_thread(base, "1596183990.000100", parent_ts, "Any news?")
    other_top_level = {**base, "event_id": "Ev-2", "event": {**base["event"], "ts": "1596184000.1"}}
    dm = {
        **base,
        "event_id": "Ev-dm",
        "event": {**base["event"], "channel": "D024BE91L", "channel_type": "im", "ts": "1.2"},
    }
    for payload in (base, reply, other_top_level, dm):
        assert (await post_event(sl, payload)).status == 200
    first, threaded, second, direct = await sl.inbound_messages()
    assert threaded.conversation_id == first.conversation_id
    assert len({first.conversation_id, second.conversation_id, direct.conversation_id}) == 3
    async with sl.hub.db.reader() as session:
        conversation = await session.get(Conversation, direct.conversation_id)
        assert conversation is not None and conversation.thread_key == "D024BE91L:1.2"


async def test_a_burst_of_events_is_acknowledged_and_stored_once_each(sl: Desk) -> None:
    """Every event of a concurrent burst gets its 200 and exactly one stored message. Slack's
    3-second budget is a number, so it is measured by ``python -m bench.chat`` (p99 ack latency),
    not asserted against the wall clock of a shared test machine."""
    base = slack_fixture("event_callback_message_channel.json")
    payloads = [
        {
            **base,
            "event_id": f"Ev-load-{n}",
            "event": {**base["event"], "user": f"W{n % 40}", "ts": f"1700000000.{n:06d}"},
        }
        for n in range(100)
    ]

    async def deliver(payload: dict[str, Any]) -> int:
        response = await post_event(sl, payload)
        return response.status

    statuses = await asyncio.gather(*(deliver(p) for p in payloads))
    assert statuses == [200] * 100
    assert len(await sl.inbound_messages()) == 100
