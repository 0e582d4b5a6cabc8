"""A bot's answer leaves as the transaction that wrote it left it: the outbox hands the channel
the message it was leased at the commit, without reading it back, and the customer gets exactly
what a read of the stored message would have given (text, options, thread, recipient)."""

from __future__ import annotations

import asyncio

from channels.base import OutboundMessage
from channels.memory.adapter import MemoryChannel
from tests.hub.bots.conftest import register
from tests.support.desk import MakeDesk
from tests.support.fake_bot import FakeBot
from tests.support.reads import as_stored, message_reads

MENU = {
    "messages": [
        {
            "text": "Which plan are you on?",
            "buttons": [
                {"title": "Basic", "payload": "/plan_basic"},
                {"title": "Pricing", "url": "https://example.com/pricing"},
            ],
        }
    ]
}


async def answered(api: MemoryChannel) -> OutboundMessage:
    """The bot's menu, once the channel has it (an acknowledgement may come first)."""
    async with asyncio.timeout(10):
        while True:
            for message in await api.wait_for(len(api.sent) or 1):
                if message.text.startswith("Which plan"):
                    return message
            await api.wait_for(len(api.sent) + 1)


async def test_a_bots_answer_goes_out_as_written_and_as_stored(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk()  # the outbox and the job runner run
    await register(desk, name="helper", kind="webhook", url=fake_bot.url("/events"),
                   channels=["api"])  # fmt: skip
    fake_bot.answer = lambda body: MENU if body.get("event") == "message.created" else {}

    with message_reads(desk) as reads:
        await desk.customer_writes("Can I change my plan?", sender="amy@example.com")
        answer = await answered(desk.memory["api"])

    assert answer.text.splitlines()[2:4] == [  # the API channel shows no buttons: numbered
        "1. Basic",
        "2. Pricing (https://example.com/pricing)",
    ]
    assert answer.recipient.address == "amy@example.com"
    assert reads == [], "the answer was read back before it was sent"
    assert await as_stored(desk, answer) == answer
