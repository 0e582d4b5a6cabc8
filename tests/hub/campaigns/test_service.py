"""A marketer writes a campaign: mistakes are named with their field and line before anything is
sent, the preview shows each channel's message, and sending fixes who gets it."""

from __future__ import annotations

import pytest

from hub.campaigns import drafting, previews, send_control, send_progress, views
from hub.campaigns.views import CampaignDraft, CampaignError
from hub.core.errors import ApiError
from hub.db.campaign_models import CampaignRecipient, ConsentState, RecipientState
from hub.db.models import Role
from tests.hub.campaigns.audience import AGENT, add_person, add_segment, marketer
from tests.support.desk import Desk, MakeDesk
from tests.support.smtp import SmtpSink

CONTENT = {
    "email": {
        "subject": "Hello {{ customer.first_name | default('there') }}",
        "html": "<p>Hi {{ customer.first_name | default('there') }}, our **sale** starts.</p>",
        "text": "Hi {{ customer.first_name | default('there') }}, our **sale** starts.",
    },
    "chat": {"text": "Hi {{ customer.first_name | default('there') }}, our **sale** starts."},
}


@pytest.fixture
async def quiet_desk(make_desk: MakeDesk) -> Desk:
    return await make_desk(workers=False)


def context(desk: Desk) -> views.CampaignContext:
    return views.CampaignContext(desk.settings, desk.hub.channels)


async def test_a_template_error_names_the_part_and_line_and_nothing_is_saved(
    quiet_desk: Desk,
) -> None:
    desk = quiet_desk
    agent_id, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = desk.hub.clock.now()
    broken = {"email": {"subject": "Hi", "html": "<p>ok</p>\n<p>{{ customer.name </p>"}}
    async with desk.db.writer() as session:
        with pytest.raises(CampaignError) as caught:
            await drafting.create_campaign(
                session, marketer(agent_id), CampaignDraft("Winter", 999, broken, ("fax",)), now
            )
    error = caught.value
    assert error.fields["content.email.html"].startswith("line 2:")
    assert error.fields["segment_id"] == "segment 999 does not exist"
    assert "unknown channel kind 'fax'" in error.fields["fallback[0]"]
    assert error.api_error().status == 422
    typo = {"chat": {"text": "Hi\n{{ custmer.name }}"}}
    async with desk.db.writer() as session:
        with pytest.raises(CampaignError) as caught:
            await drafting.create_campaign(
                session, marketer(agent_id), CampaignDraft("Winter", None, typo), now
            )
    assert caught.value.fields["content.chat.text"].startswith("line 2: unknown name 'custmer'")
    async with desk.db.reader() as session:
        assert await drafting.list_campaigns(session, marketer(agent_id)) == []


async def test_agents_may_not_touch_campaigns(quiet_desk: Desk) -> None:
    async with quiet_desk.db.reader() as session:
        with pytest.raises(ApiError) as caught:
            await drafting.list_campaigns(session, AGENT)
    assert caught.value.status == 403


async def test_preview_shows_each_channel_and_greets_a_nameless_customer(quiet_desk: Desk) -> None:
    desk = quiet_desk
    agent_id, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = desk.hub.clock.now()
    nameless = await add_person(desk.db, now, "", {"email": "x@example.com"})
    segment = await add_segment(desk.db, now)
    async with desk.db.writer() as session:
        campaign = await drafting.create_campaign(
            session, marketer(agent_id), CampaignDraft("Sale", segment, CONTENT), now
        )
        await session.commit()
    async with desk.db.reader() as session:
        mail = await previews.preview(
            session,
            marketer(agent_id),
            context(desk),
            campaign.id,
            "email",
            customer_id=nameless.customer_id,
        )
        slack = await previews.preview(
            session, marketer(agent_id), context(desk), campaign.id, "slack"
        )
    assert mail.subject == "Hello there"
    assert "Unsubscribe" in mail.text and "/u/" in mail.text
    assert mail.html is not None and "Unsubscribe</a>" in mail.html
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert slack.text.startswith("Hi Jane, our *sale* starts.")
    assert "Reply STOP" in slack.text


async def test_sending_fixes_the_recipients_with_reasons_for_those_skipped(
    quiet_desk: Desk,
) -> None:
    desk = quiet_desk
    agent_id, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = desk.hub.clock.now()
    ann = await add_person(desk.db, now, "Ann", {"email": "ann@example.com"})
    bob = await add_person(desk.db, now, "Bob", {"email": "bob@example.com"}, consent={})
    eve = await add_person(
        desk.db,
        now,
        "Eve",
        {"email": "eve@example.com"},
        consent={"email": ConsentState.REVOKED},
    )
    await add_person(desk.db, now, "Outsider", {"email": "out@example.com"}, tags=())
    segment = await add_segment(desk.db, now)
    async with desk.db.writer() as session:
        campaign = await drafting.create_campaign(
            session, marketer(agent_id), CampaignDraft("Sale", segment, CONTENT), now
        )
        progress = await send_control.send_now(
            session, marketer(agent_id), context(desk), campaign.id, now
        )
        await session.commit()
    assert progress.recipients == 3
    assert progress.count(RecipientState.QUEUED) == 1
    assert progress.skipped == {"no_consent": 1, "opted_out": 1}
    assert progress.channels == {"mail": {"pending": 1}}
    async with desk.db.reader() as session:
        rows = {
            row.customer_id: row
            async for row in send_progress.recipient_outcomes(
                session, marketer(agent_id), campaign.id
            )
        }
    assert rows[ann.customer_id].address == "ann@example.com"
    assert rows[bob.customer_id].skip_reason == "no_consent"
    assert rows[eve.customer_id].skip_reason == "opted_out"


async def test_a_chat_audience_needs_a_chat_text_before_sending(quiet_desk: Desk) -> None:
    desk = quiet_desk
    agent_id, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = desk.hub.clock.now()
    await add_person(desk.db, now, "Wendy", {"web": "visitor-w"})
    segment = await add_segment(desk.db, now)
    email_only = {"email": CONTENT["email"]}
    async with desk.db.writer() as session:
        campaign = await drafting.create_campaign(
            session, marketer(agent_id), CampaignDraft("Sale", segment, email_only), now
        )
        with pytest.raises(CampaignError) as caught:
            await send_control.send_now(
                session, marketer(agent_id), context(desk), campaign.id, now
            )
        assert "web" in caught.value.fields["content.chat.text"]
        view = await drafting.get_campaign(session, marketer(agent_id), campaign.id)
    assert view.state == "draft" and view.recipient_count == 0


async def test_a_test_send_reaches_the_marketer_marked_as_a_test(
    quiet_desk: Desk, smtp_sink: SmtpSink
) -> None:
    desk = quiet_desk
    agent_id, _ = await desk.agent("mia@example.com", role=Role.MARKETER)
    now = desk.hub.clock.now()
    segment = await add_segment(desk.db, now)
    async with desk.db.writer() as session:
        campaign = await drafting.create_campaign(
            session, marketer(agent_id), CampaignDraft("Sale", segment, CONTENT), now
        )
        result = await previews.test_send(
            session, marketer(agent_id), context(desk), campaign.id, now
        )
        await session.commit()
    assert result.ok and result.address == "mia@example.com"
    [mail] = await smtp_sink.wait_for(1)
    assert mail.rcpt_tos == ["mia@example.com"]
    assert mail.message["Subject"] == "[TEST] Hello Jane"
    assert mail.message["X-Relaydesk-Test"] == "yes"
    assert await desk.count(CampaignRecipient) == 0
