"""A chat recipient who answers a campaign with STOP is opted out on that channel at once, is
told so in one message there, and no support conversation opens. Any other answer is a reply
to the campaign and reaches support as usual."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from hub.db.campaign_models import ConsentChange
from hub.db.models import Conversation, ConversationStatus, Direction, Message
from tests.channels.telegram.conftest import post_update, telegram_overrides
from tests.conftest import make_settings
from tests.support.campaign_rows import (
    Person,
    campaign,
    consent_state,
    person,
    recipient,
    recipient_row,
)
from tests.support.desk import Desk, MakeDesk
from tests.support.fake_provider import fake_fixture
from tests.support.fake_telegram import FakeTelegram

fake_telegram = fake_fixture(FakeTelegram)
CHAT = 408258968


@pytest.fixture
async def desk(database_url: str, fake_telegram: FakeTelegram, make_desk: MakeDesk) -> Desk:
    return await make_desk(
        settings=make_settings(database_url, **telegram_overrides(fake_telegram))
    )


def update(update_id: int, text: str, user: int = CHAT) -> dict[str, Any]:
    """A private-chat message as Telegram posts it to the webhook."""
    sender = {"id": user, "is_bot": False, "first_name": "Jane", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id * 10,
            "from": sender,
            "chat": {"id": user, "first_name": "Jane", "type": "private"},
            "date": 1767600000,
            "text": text,
        },
    }


async def _sent_to_jane(desk: Desk) -> tuple[Person, int]:
    jane = await person(desk, "Jane", telegram=str(CHAT))
    spring = await campaign(desk, "Spring sale")
    sent = desk.hub.clock.now() - timedelta(hours=1)
    rid = await recipient(desk, spring, jane, "telegram", "tg", sent_at=sent, message_ref="1")
    return jane, rid


async def test_stop_over_telegram_opts_out_confirms_and_opens_no_conversation(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    jane, rid = await _sent_to_jane(desk)
    assert (await post_update(desk, update(1, "  Stop "))).status == 200

    [reply] = await fake_telegram.wait_for("sendMessage", 1)
    assert reply.chat_id == str(CHAT)
    assert "no more news from us here" in reply.params["text"]
    assert await consent_state(desk, jane.identities["telegram"]) == ("revoked", "stop_word")
    row = await recipient_row(desk, rid)
    assert row.unsubscribed_at is not None and row.replied_at is None
    [conversation] = await desk.conversations()
    assert conversation.status == ConversationStatus.RESOLVED
    assert conversation.team_id is None and conversation.assignee_id is None
    async with desk.db.reader() as session:
        change = await session.scalar(select(ConsentChange).order_by(ConsentChange.id.desc()))
    assert change is not None and change.campaign_id == row.campaign_id

    # Telegram delivering the same update again changes nothing and says nothing twice.
    assert (await post_update(desk, update(1, "  Stop "))).status == 200
    await asyncio.sleep(0.3)
    assert len(fake_telegram.sent()) == 1
    assert await desk.count(Message, Message.direction == Direction.INBOUND) == 1

    # Her next message is a new support conversation, not the closed opt-out one.
    assert (await post_update(desk, update(2, "Where is my parcel?"))).status == 200
    conversations = await desk.conversations()
    assert [c.status for c in conversations if c.id != conversation.id] == ["open"]


async def test_any_other_answer_is_a_reply_that_reaches_support(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    jane, rid = await _sent_to_jane(desk)
    assert (await post_update(desk, update(3, "Stop sending me socks, I want shoes"))).status == 200
    [conversation] = await desk.conversations()
    assert conversation.status == ConversationStatus.OPEN and conversation.team_id is not None
    assert await consent_state(desk, jane.identities["telegram"]) == ("granted", "form")
    row = await recipient_row(desk, rid)
    assert row.replied_at is not None and row.reply_conversation_id == conversation.id
    assert row.unsubscribed_at is None
    async with desk.db.reader() as session:
        events = await session.scalars(
            select(Message.text).where(
                Message.conversation_id == conversation.id, Message.direction == Direction.EVENT
            )
        )
        assert "Reply to campaign “Spring sale”" in " ".join(events)


async def test_stop_from_someone_never_asked_goes_to_support(
    desk: Desk, fake_telegram: FakeTelegram
) -> None:
    assert (await post_update(desk, update(4, "STOP", user=777))).status == 200
    [conversation] = await desk.conversations()
    assert conversation.status == ConversationStatus.OPEN
    assert await desk.count(ConsentChange) == 0


async def test_a_chat_message_after_the_reply_window_is_no_reply(desk: Desk) -> None:
    jane = await person(desk, "Jane", telegram=str(CHAT))
    spring = await campaign(desk)
    long_ago = desk.hub.clock.now() - timedelta(
        hours=desk.settings.campaigns.reply_window_hours + 1
    )
    rid = await recipient(desk, spring, jane, "telegram", "tg", sent_at=long_ago)
    assert (await post_update(desk, update(5, "Hello"))).status == 200
    assert (await recipient_row(desk, rid)).replied_at is None
    assert await desk.count(Conversation) == 1
