"""The memory channel keeps the Channel contract: it makes customer messages, parses a JSON
delivery, records what it was asked to send in order, and can be named in the settings."""

from __future__ import annotations

import asyncio
import json

import pytest

from channels.base import (
    Channel,
    ChannelRejected,
    IdentityKind,
    InboundRequest,
    OutboundMessage,
    Party,
)
from channels.memory.adapter import MemoryChannel, MemoryChannelConfig
from tests.conftest import make_settings


def outbound(message_id: int, text: str) -> OutboundMessage:
    return OutboundMessage(
        message_id=message_id,
        channel="desk",
        recipient=Party(IdentityKind.EMAIL, "jane@example.com", "Jane Cooper"),
        text=text,
    )


def test_it_is_a_channel_and_makes_what_a_customer_writes() -> None:
    channel = MemoryChannel("desk")
    assert isinstance(channel, Channel)
    one = channel.message("Hello", subject="Order 17", thread_key="o-17")
    two = channel.message("Hello")
    assert (one.channel, one.sender.address, one.sender.name) == (
        "desk",
        "jane@example.com",
        "Jane Cooper",
    )
    assert (one.text, one.subject, one.thread_key) == ("Hello", "Order 17", "o-17")
    assert one.external_id != two.external_id  # two writes are two messages


def test_a_json_delivery_is_parsed_and_anything_else_refused() -> None:
    channel = MemoryChannel("desk")
    body = {"text": "Hi", "from": "tom@example.com", "external_id": "x-1"}
    [message] = channel.parse(InboundRequest(body=json.dumps(body).encode()))
    assert (message.text, message.sender.address, message.external_id) == (
        "Hi",
        "tom@example.com",
        "x-1",
    )
    for bad in (b"not json", b"[]", b'{"from": "a@example.com"}'):
        with pytest.raises(ChannelRejected):
            channel.parse(InboundRequest(body=bad))


async def test_sent_messages_are_kept_in_order_and_can_be_awaited() -> None:
    channel = MemoryChannel("desk")
    waiting = asyncio.ensure_future(channel.wait_for(2))
    first = await channel.send(outbound(1, "one"))
    assert first.ok and first.external_id == "memory-1"
    assert not waiting.done()
    await channel.send(outbound(2, "two"))
    assert [m.text for m in await asyncio.wait_for(waiting, 1)] == ["one", "two"]
    assert channel.pop_sent().text == "one"
    assert [m.text for m in channel.sent] == ["two"]


def test_settings_can_name_the_kind() -> None:
    settings = make_settings(
        "sqlite+aiosqlite:///unused.db",
        **{"channels.desk.kind": "memory", "channels.desk.identity_kind": "web"},
    )
    config = settings.channels["desk"]
    assert isinstance(config, MemoryChannelConfig)
    assert config.recipient_kind() is IdentityKind.WEB
