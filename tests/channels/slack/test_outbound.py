"""Agent replies out through slack-sdk's chat.postMessage, pointed at the fake Web API: into
the customer's thread, paced per channel, honouring 429 ``Retry-After``."""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import replace
from typing import Any

import aiohttp

from channels.base import Attachment, IdentityKind, OutboundMessage, Party
from channels.slack.adapter import SlackChannel
from hub.config.settings import Settings
from hub.db.models import Message, Role
from tests.channels.slack.conftest import (
    post_event,
    slack_fixture,
    slack_overrides,
)
from tests.conftest import auth, make_settings
from tests.support.desk import Desk
from tests.support.fake_slack import UPLOAD, FakeSlack
from tests.support.poll import eventually


async def _conversation(desk: Desk, payload: dict[str, Any]) -> int:
    assert (await post_event(desk, payload)).status == 200
    return (await desk.inbound_messages())[-1].conversation_id


async def _reply(desk: Desk, token: str, conversation: int, text: str) -> int:
    response = await desk.client.post(
        f"/api/v1/conversations/{conversation}/messages", json={"text": text}, headers=auth(token)
    )
    assert response.status == 201, await response.text()
    message_id: int = (await response.json())["id"]
    return message_id


async def _state(desk: Desk, message_id: int) -> Message:
    return await desk.message(message_id)


def _in_thread(event_id: str, ts: str, thread_ts: str = "1596183880.004200") -> dict[str, Any]:
    """A customer's message in a thread of channel C111."""
    base = slack_fixture("event_callback_message_channel.json")
    return {
        **base,
        "event_id": event_id,
        "event": {**base["event"], "ts": ts, "thread_ts": thread_ts},
    }


async def test_agent_reply_goes_into_the_customers_thread(sl: Desk, fake_slack: FakeSlack) -> None:
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    await _conversation(sl, slack_fixture("event_callback_message_channel.json"))
    conversation = await _conversation(sl, _in_thread("Ev-thread", "1596183999.000200"))
    reply_id = await _reply(sl, token, conversation, "Thanks, looking into it.")
    [post] = await fake_slack.wait_for_posts(1)
    assert post.token == fake_slack.token
    assert post.params["channel"] == "C111"
    assert post.params["thread_ts"] == "1596183880.004200"
    assert post.params["text"].startswith("Thanks, looking into it.")

    async def sent() -> bool:
        return (await _state(sl, reply_id)).delivery_state == "sent"

    await eventually(sent, what="reply marked sent")
    external_id = (await _state(sl, reply_id)).external_id
    assert external_id is not None and external_id.startswith("C111:")


async def test_rate_limit_retry_after_is_honoured_and_visible(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    conversation = await _conversation(sl, slack_fixture("event_callback_message_channel.json"))
    fake_slack.fail(429, retry_after=1)
    reply_id = await _reply(sl, token, conversation, "Hello")

    async def limited() -> bool:
        return "429" in ((await _state(sl, reply_id)).delivery_error or "")

    await eventually(limited, what="429 visible on the message")
    first, second = await fake_slack.wait_for_posts(2)
    assert second.at - first.at >= 0.9

    async def sent() -> bool:
        return (await _state(sl, reply_id)).delivery_state == "sent"

    await eventually(sent, what="sent after Retry-After")


async def test_server_errors_are_retried_and_refusals_are_final(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    conversation = await _conversation(sl, slack_fixture("event_callback_message_channel.json"))
    fake_slack.fail(500)
    retried = await _reply(sl, token, conversation, "first")

    async def sent() -> bool:
        return (await _state(sl, retried)).delivery_state == "sent"

    await eventually(sent, what="sent after a 500")
    fake_slack.fail(200, error="not_in_channel")
    refused = await _reply(sl, token, conversation, "second")

    async def failed() -> bool:
        return (await _state(sl, refused)).delivery_state == "failed"

    await eventually(failed, what="not_in_channel marked failed")
    listed = await sl.client.get(
        f"/api/v1/conversations/{conversation}/messages", headers=auth(token)
    )
    [shown] = [m for m in (await listed.json())["items"] if m["id"] == refused]
    assert "not_in_channel" in shown["delivery_error"]


def _outbound(
    message_id: int, thread_key: str, text: str, attachments: tuple[Attachment, ...] = ()
) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        channel="sl",
        recipient=Party(IdentityKind.SLACK, "W111"),
        text=text,
        thread_key=thread_key,
        attachments=attachments,
    )


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4


async def test_reply_with_a_file_is_uploaded_into_the_thread(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    conversation = await _conversation(sl, _in_thread("Ev-file", "1596183999.000300"))
    form = aiohttp.FormData()
    form.add_field("file", PDF, filename="invoice.pdf", content_type="application/pdf")
    uploaded = await sl.client.post("/api/v1/uploads", data=form, headers=auth(token))
    assert uploaded.status == 201, await uploaded.text()
    file_id = (await uploaded.json())["id"]
    response = await sl.client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Your invoice", "attachments": [file_id]},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()
    [complete] = await fake_slack.wait_for("files.completeUploadExternal", 1)
    [asked] = fake_slack.called("files.getUploadURLExternal")
    assert asked.params["filename"] == "invoice.pdf" and asked.params["length"] == str(len(PDF))
    [upload] = fake_slack.called(UPLOAD)
    assert upload.body == PDF
    assert complete.params["channel_id"] == "C111"
    assert complete.params["thread_ts"] == "1596183880.004200"
    assert json.loads(complete.params["files"])[0]["id"] == asked_file_id(fake_slack)
    [post] = fake_slack.posted()
    assert post.params["text"].startswith("Your invoice")
    assert post.params["thread_ts"] == "1596183880.004200"


async def test_a_reply_whose_file_fails_is_resumed_by_the_hub_without_posting_twice(
    sl: Desk, fake_slack: FakeSlack
) -> None:
    """The text went out, the file's upload failed: the hub keeps the part delivered on the
    message (as for Telegram), so the retry, even by another process after a crash, uploads
    the file and does not post the text again."""
    _, token = await sl.agent("lead@example.com", role=Role.SUPERVISOR)
    conversation = await _conversation(sl, _in_thread("Ev-resume", "1596183999.000400"))
    form = aiohttp.FormData()
    form.add_field("file", PDF, filename="invoice.pdf", content_type="application/pdf")
    uploaded = await sl.client.post("/api/v1/uploads", data=form, headers=auth(token))
    file_id = (await uploaded.json())["id"]
    fake_slack.fail(500, methods=("files.getUploadURLExternal",))
    response = await sl.client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"text": "Your invoice", "attachments": [file_id]},
        headers=auth(token),
    )
    assert response.status == 201, await response.text()
    reply: int = (await response.json())["id"]

    async def sent() -> bool:
        return (await _state(sl, reply)).delivery_state == "sent"

    await eventually(sent, what="the reply sent after the retry")
    [post] = fake_slack.posted()  # the text once
    assert post.params["text"].startswith("Your invoice")
    assert len(fake_slack.called("files.getUploadURLExternal")) == 2  # refused, then done
    message = await _state(sl, reply)
    [text_key, file_key] = message.raw["delivered_parts"]
    assert text_key.startswith("C111:") and ":file:" not in text_key
    assert file_key == f"C111:file:{asked_file_id(fake_slack)}"
    assert message.external_id == text_key


def asked_file_id(fake: FakeSlack) -> str:
    [upload] = fake.uploads.values()
    return upload.file_id


async def test_file_upload_rate_limit_is_honoured_without_posting_twice(
    slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    channel = SlackChannel("sl", slack_settings.channels["sl"])  # type: ignore[arg-type]
    await channel.start()
    try:
        pdf = Attachment("invoice.pdf", "application/pdf", len(PDF), content=PDF)
        message = _outbound(30, "C111:1.1", "Your invoice", (pdf,))
        fake_slack.fail(429, retry_after=1, methods=("files.getUploadURLExternal",))
        limited = await channel.send(message)
        assert not limited.ok and limited.retry_after == 1
        assert "429" in (limited.error or "")
        assert len(limited.delivered) == 1  # the text went: the hub keeps it on the message
        # the outbox tries again, handing back the parts delivered so far
        delivered = await channel.send(replace(message, delivered=limited.delivered))
        assert delivered.ok, delivered
        assert len(fake_slack.posted()) == 1  # the text went once
        refused, asked = fake_slack.called("files.getUploadURLExternal")
        assert asked.at - refused.at >= 0.9  # the channel waited out Retry-After
        [complete] = fake_slack.called("files.completeUploadExternal")
        assert complete.params["thread_ts"] == "1.1"
        assert [u.content for u in fake_slack.uploads.values() if u.shared] == [PDF]
    finally:
        await channel.stop()


async def test_one_message_a_second_per_channel_without_holding_up_others(
    database_url: str, fake_slack: FakeSlack
) -> None:
    settings: Settings = make_settings(
        database_url,
        **slack_overrides(fake_slack, channel_interval_seconds=0.3, max_pacing_wait_seconds=1.0),
    )
    channel = SlackChannel("sl", settings.channels["sl"])  # type: ignore[arg-type]
    await channel.start()
    try:
        results = await asyncio.gather(
            *(channel.send(_outbound(n, "C111:1.1", f"a{n}")) for n in range(3)),
            channel.send(_outbound(9, "C222:2.2", "b")),
        )
        assert all(r.ok for r in results), results
        to_a = [c.at for c in fake_slack.posted() if c.params["channel"] == "C111"]
        to_b = [c.at for c in fake_slack.posted() if c.params["channel"] == "C222"]
        assert len(to_a) == 3
        assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(to_a))
        assert to_b[0] < to_a[1]
        # While C111 is paused by a 429, C222 still goes out at once.
        fake_slack.fail(429, retry_after=30, channel="C111")
        paused = await channel.send(_outbound(20, "C111:1.1", "x"))
        assert not paused.ok and paused.retry_after == 30
        again, other = await asyncio.gather(
            channel.send(_outbound(21, "C111:1.1", "y")),
            channel.send(_outbound(22, "C222:2.2", "z")),
        )
        assert not again.ok and (again.retry_after or 0) > 25 and other.ok
    finally:
        await channel.stop()


async def test_replies_of_files_alone_each_have_their_own_id(
    slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    channel = SlackChannel("sl", slack_settings.channels["sl"])  # type: ignore[arg-type]
    await channel.start()
    try:
        pdf = Attachment("invoice.pdf", "application/pdf", len(PDF), content=PDF)
        first = await channel.send(_outbound(40, "C111:1.1", "", (pdf,)))
        second = await channel.send(_outbound(41, "C111:1.1", " ", (pdf,)))
        assert first.ok and second.ok, (first, second)
        assert first.external_id != second.external_id
        assert fake_slack.posted() == []  # no empty text message
        assert len(fake_slack.called("files.completeUploadExternal")) == 2
    finally:
        await channel.stop()
