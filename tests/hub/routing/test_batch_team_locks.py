"""Two hub processes ingest a batch each at the same moment, both with new conversations for
two round-robin teams but in opposite order: each batch locks the teams' cursors it may move
in one ordered statement, so neither waits on the other in a cycle (PostgreSQL would abort one
with a deadlock and the batch would be redone message by message)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from channels.base import InboundMessage
from channels.memory.adapter import MemoryChannel
from tests.support.desk import MakeDesk


def _batch(chat: MemoryChannel, who: str, first: str, second: str) -> list[InboundMessage]:
    """Two new customers' first messages: one batch."""
    return [
        chat.message(first, sender=f"{who}-a@example.com"),
        chat.message(second, sender=f"{who}-b@example.com"),
    ]


RULES = [{"name": "refunds", "keywords": ["refund"], "team": "billing"}]
ROUNDS = 5


async def test_two_batches_over_two_teams_in_opposite_order_do_not_deadlock(
    make_desk: MakeDesk, caplog: pytest.LogCaptureFixture
) -> None:
    settings = {"routing.rules": RULES, "routing.default_team": "support"}
    one = await make_desk(memory=("chat",), **settings)
    if one.db.is_sqlite:
        pytest.skip("several hub processes share one PostgreSQL database, not a SQLite file")
    two = await make_desk(clock=one.clock, memory=("chat",), **settings)
    support = [(await one.agent(f"s{i}@example.com", capacity=100))[0] for i in range(2)]
    billing = [
        (await one.agent(f"b{i}@example.com", teams=("billing",), capacity=100))[0]
        for i in range(2)
    ]
    chat = one.memory["chat"]
    caplog.set_level(logging.INFO, logger="hub.inbound.ingest")
    results = []
    for n in range(ROUNDS):
        pair = await asyncio.gather(
            one.ingest(*_batch(chat, f"one{n}", "Hello", "I want a refund")),
            two.ingest(*_batch(chat, f"two{n}", "Where is my refund?", "Hello")),
        )
        results += [r for batch in pair for r in batch]
    assert not [r.message for r in caplog.records if "retried one by one" in r.message]
    assignees = Counter([(await one.conversation(r.conversation_id)).assignee_id for r in results])
    # Every conversation went to its team, and each team's agents took turns.
    assert set(assignees) == {*support, *billing}
    assert set(assignees.values()) == {ROUNDS}
