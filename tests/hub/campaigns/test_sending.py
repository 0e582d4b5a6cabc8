"""Pressing "send": a segment spread over email, Telegram, Slack and the web chat reaches each
consenting member once, on their preferred channel or the first consented one in the fallback
order; the others are skipped with a reason; a provider's 429 is waited out, not counted as a
failure; pause, resume and cancel take effect at once."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from hub.campaigns import send_control, views
from hub.core.consent import record_consent
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    ConsentSource,
    ConsentState,
    RecipientState,
)
from hub.db.models import Conversation, Message, Role
from tests.hub.campaigns.audience import add_person, add_segment, marketer
from tests.hub.campaigns.conftest import act, create, finished, moment, progress, send
from tests.support.desk import Desk
from tests.support.fake_slack import FakeSlack
from tests.support.fake_telegram import FakeTelegram
from tests.support.poll import eventually


async def recipients(desk: Desk, campaign_id: int) -> dict[int, CampaignRecipient]:
    async with desk.db.reader() as session:
        rows = await session.scalars(
            select(CampaignRecipient).where(CampaignRecipient.campaign_id == campaign_id)
        )
        return {row.customer_id: row for row in rows}


async def test_each_consenting_member_gets_it_once_on_the_right_channel(
    campaign_desk: Desk, fake_telegram: FakeTelegram, fake_slack: FakeSlack
) -> None:
    desk = campaign_desk
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    db = desk.db
    ann = await add_person(db, now, "Ann Lee", {"email": "ann@example.com"})
    tom = await add_person(db, now, "Tom", {"telegram": "4001"})
    sam = await add_person(db, now, "Sam", {"slack": "U0SAM"})
    wendy = await add_person(db, now, "Wendy", {"web": "visitor-w"})
    pat = await add_person(
        db, now, "Pat", {"email": "pat@example.com", "telegram": "4002"}, preferred="telegram"
    )
    fay = await add_person(
        db,
        now,
        "Fay",
        {"email": "fay@example.com", "slack": "U0FAY"},
        consent={"email": ConsentState.REVOKED, "slack": ConsentState.GRANTED},
    )
    bob = await add_person(db, now, "Bob", {"email": "bob@example.com"}, consent={})
    sue = await add_person(
        db, now, "Sue", {"email": "sue@example.com"}, consent={"email": ConsentState.SUPPRESSED}
    )
    olga = await add_person(db, now, "Olga", {"email": "olga@example.com"})
    cap = await add_person(db, now, "Cap", {"email": "cap@example.com"})
    await add_person(db, now, "Not in it", {"email": "out@example.com"}, tags=("vip",))
    await _already_received(desk, cap.customer_id, times=3)
    segment = await add_segment(db, now)
    campaign = await create(desk, marketer(mia), segment)

    # The recipients are fixed (Olga among them) and the send paused at once; Olga opts out
    # while it is under way and is not messaged when it resumes.
    async with db.writer() as session:
        context = desk.hub.campaigns.context
        started = await send_control.send_now(session, marketer(mia), context, campaign, now)
        await send_control.pause(session, marketer(mia), campaign, now)
        await session.commit()
    async with db.writer() as session:
        await record_consent(
            session,
            olga.identities["email"],
            ConsentState.REVOKED,
            ConsentSource.UNSUBSCRIBE,
            moment(desk),
        )
        await session.commit()
    await act(desk, marketer(mia), "resume", campaign)
    done = await finished(desk, marketer(mia), campaign)

    assert started.recipients == 10
    assert done.accounted
    assert done.count(RecipientState.SENT) == 6
    assert done.skipped == {"no_consent": 1, "suppressed": 1, "capped": 1, "opted_out": 1}
    assert sorted(mail.rcpt_tos[0] for mail in desk.smtp.received) == ["ann@example.com"]
    assert sorted(call.chat_id for call in fake_telegram.sent()) == ["4001", "4002"]
    assert sorted(call.params["channel"] for call in fake_slack.posted()) == ["U0FAY", "U0SAM"]
    [widget] = desk.sent("chat")
    assert widget.recipient.address == "visitor-w"
    assert widget.text.startswith("Hi Wendy, the sale starts.")

    rows = await recipients(desk, campaign)
    assert rows[pat.customer_id].channel == "tg"  # preferred over the email fallback
    assert rows[fay.customer_id].channel == "sl"  # opted out of email: the next consented one
    assert {rows[p.customer_id].skip_reason for p in (bob, sue, cap, olga)} == {
        "no_consent",
        "suppressed",
        "capped",
        "opted_out",
    }
    mail = desk.smtp.received[0]
    assert rows[ann.customer_id].message_ref == mail.message["Message-ID"]
    assert mail.message["Subject"] == "Winter sale, Ann"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        "/u/" in mail.message["List-Unsubscribe"] and "mailto:" in mail.message["List-Unsubscribe"]
    )
    assert "Unsubscribe: http" in mail.text()
    html = mail.html()
    assert html is not None and ">Unsubscribe</a>" in html
    assert "*sale*" in fake_slack.posted()[0].params["text"]  # Slack mrkdwn
    assert "sale starts" in fake_telegram.sent()[0].params["text"]
    assert rows[tom.customer_id].message_ref and rows[sam.customer_id].message_ref
    assert rows[wendy.customer_id].state == RecipientState.SENT


async def _already_received(desk: Desk, customer_id: int, *, times: int) -> None:
    """``times`` campaign messages in the last days (the default cap is 3 in 7 days)."""
    now = moment(desk)
    async with desk.db.writer() as session:
        for number in range(times):
            old = Campaign(
                name=f"Earlier {number}",
                state="finished",
                content={},
                fallback=[],
                recipient_count=1,
                created_at=now,
                updated_at=now,
            )
            session.add(old)
            await session.flush()
            session.add(
                CampaignRecipient(
                    campaign_id=old.id,
                    customer_id=customer_id,
                    state="sent",
                    attempts=0,
                    next_attempt_at=now,
                    queued_at=now,
                    sent_at=now - timedelta(days=number + 1),
                )
            )
        await session.commit()


async def test_a_telegram_429_is_waited_out_and_the_message_sent_once(
    campaign_desk: Desk, fake_telegram: FakeTelegram
) -> None:
    desk = campaign_desk
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    tom = await add_person(desk.db, now, "Tom", {"telegram": "4001"})
    fake_telegram.fail(429, retry_after=1)
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, now))
    await send(desk, marketer(mia), campaign)
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.SENT) == 1 and done.count(RecipientState.FAILED) == 0
    refused, delivered = fake_telegram.sent()  # the refused try, and the one that went
    assert refused.chat_id == delivered.chat_id == "4001"
    assert len(fake_telegram.issued) == 1
    row = (await recipients(desk, campaign))[tom.customer_id]
    assert row.attempts == 0 and row.last_error is None


async def test_a_refused_address_fails_with_the_error_and_can_be_retried(
    campaign_desk: Desk,
) -> None:
    desk = campaign_desk
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    ann = await add_person(desk.db, now, "Ann", {"email": "ann@example.com"})
    desk.smtp.reject_rcpt_with = "550 5.1.1 no such user"
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, now))
    await send(desk, marketer(mia), campaign)
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.FAILED) == 1
    row = (await recipients(desk, campaign))[ann.customer_id]
    assert row.last_error is not None and "550" in row.last_error
    desk.smtp.reject_rcpt_with = None
    assert await act(desk, marketer(mia), "retry_failed", campaign) == 1
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.SENT) == 1
    assert [mail.rcpt_tos for mail in desk.smtp.received] == [["ann@example.com"]]


async def _crowd(desk: Desk, count: int) -> None:
    now = moment(desk)
    for number in range(count):
        await add_person(desk.db, now, f"Reader {number}", {"email": f"r{number}@example.com"})


async def test_pause_stops_within_a_second_and_resume_finishes(make_campaign_desk: Any) -> None:
    desk: Desk = await make_campaign_desk(**{"campaigns.throttles.email.per_second": 10})
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    await _crowd(desk, 30)
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, moment(desk)))
    await send(desk, marketer(mia), campaign)
    await desk.smtp.wait_for(5)
    await act(desk, marketer(mia), "pause", campaign)
    await asyncio.sleep(1.0)  # what was handed to SMTP before the pause lands
    at_pause = len(desk.smtp.received)
    await asyncio.sleep(1.0)
    assert len(desk.smtp.received) == at_pause < 30
    paused = await progress(desk, marketer(mia), campaign)
    assert paused.state == "paused" and paused.count(RecipientState.SENDING) == 0
    assert paused.count(RecipientState.SENT) == at_pause
    await act(desk, marketer(mia), "resume", campaign)
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.SENT) == 30
    addresses = [mail.rcpt_tos[0] for mail in desk.smtp.received]
    assert len(addresses) == len(set(addresses)) == 30


async def test_cancel_stops_the_send_and_accounts_for_everyone(make_campaign_desk: Any) -> None:
    desk: Desk = await make_campaign_desk(**{"campaigns.throttles.email.per_second": 10})
    assert desk.smtp is not None
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    await _crowd(desk, 30)
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, moment(desk)))
    await send(desk, marketer(mia), campaign)
    await desk.smtp.wait_for(3)
    await act(desk, marketer(mia), "cancel", campaign)

    async def settled() -> bool:
        return (await progress(desk, marketer(mia), campaign)).count(RecipientState.SENDING) == 0

    await eventually(settled, 5, what="nothing in flight")
    await asyncio.sleep(0.5)
    state = await progress(desk, marketer(mia), campaign)
    assert state.state == "cancelled" and state.accounted
    assert state.count(RecipientState.SENT) == len(desk.smtp.received) < 30
    assert state.count(RecipientState.CANCELLED) == 30 - len(desk.smtp.received)
    async with desk.db.writer() as session:
        try:
            await send_control.resume(session, marketer(mia), campaign, moment(desk))
        except views.CampaignError as exc:
            assert exc.status == 409 and exc.field == "state"
        else:
            raise AssertionError("a cancelled campaign resumed")


async def test_a_web_chat_visitor_gets_it_in_their_chat_conversation(
    make_campaign_desk: Any,
) -> None:
    desk: Desk = await make_campaign_desk(real_widget=True)
    mia, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = moment(desk)
    wendy = await add_person(desk.db, now, "Wendy", {"web": "visitor-w"})
    async with desk.db.writer() as session:
        chat = Conversation(
            token=secrets.token_hex(8),
            customer_id=wendy.customer_id,
            identity_id=wendy.identities["web"],
            channel="chat",
            created_at=now,
            last_activity_at=now,
        )
        session.add(chat)
        await session.commit()
    campaign = await create(desk, marketer(mia), await add_segment(desk.db, now))
    await send(desk, marketer(mia), campaign)
    done = await finished(desk, marketer(mia), campaign)
    assert done.count(RecipientState.SENT) == 1
    row = (await recipients(desk, campaign))[wendy.customer_id]
    async with desk.db.reader() as session:
        [message] = (
            await session.scalars(select(Message).where(Message.conversation_id == chat.id))
        ).all()
    assert row.message_ref == f"message:{message.id}"
    assert message.automated and message.text.startswith("Hi Wendy, the sale starts.")
    assert message.raw["campaign_id"] == campaign
