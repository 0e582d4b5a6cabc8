"""The marketer's pages: a marketer lands on the campaigns after sign-in, agents get a 403 page
that leads them home; a campaign is written (template errors inline with their line), previewed
live, confirmed with its recipient count, sent, followed to the end and its results read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from hub.db.campaign_models import CampaignRecipient, RecipientState
from hub.db.models import Role
from tests.hub.campaigns.audience import add_person, add_segment
from tests.hub.web.ui.conftest import PASSWORD, Ui, UiFactory, sign_in
from tests.support.desk import Desk, MakeDesk
from tests.support.poll import eventually


@pytest.fixture
async def desk(make_desk: MakeDesk) -> Desk:
    return await make_desk(**{"campaigns.poll_seconds": 0.05, "campaigns.quiet_hours": False})


def nav(page: str) -> list[str]:
    found = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', page, re.S)
    assert found is not None
    return re.findall(r">([^<>]+)</a>", found.group(1))


async def test_a_marketer_lands_on_the_campaigns_and_sees_their_own_links(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("mia@example.com", role=Role.MARKETER, teams=(), password=PASSWORD)
    http = browser_session()
    response = await sign_in(http, "mia@example.com", PASSWORD)
    assert (response.status, response.headers["Location"]) == (303, "/ui/campaigns")
    page = await (await http.get("/ui/campaigns")).text()
    assert "<h1>Campaigns</h1>" in page
    assert nav(page) == ["Campaigns", "Segments", "Customers"]
    home = await http.get("/ui", allow_redirects=False)
    assert home.headers["Location"] == "/ui/campaigns"
    inbox = await http.get("/ui/inbox")
    assert inbox.status == 403
    text = await inbox.text()
    assert "Your role may not work in the inbox" in text
    assert '<a class="btn-link" href="/ui/campaigns">Your campaigns</a>' in text


async def test_agents_get_a_403_page_that_leads_home_and_scripts_get_json(
    desk: Desk, ui_agent: UiFactory, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    await desk.agent("al@example.com", password=PASSWORD)
    http = browser_session()
    response = await sign_in(http, "al@example.com", PASSWORD)
    assert response.headers["Location"] == "/ui/inbox"
    refused = await http.get("/ui/campaigns")
    assert refused.status == 403
    page = await refused.text()
    assert "Not allowed" in page
    assert "Your role may not open campaigns (they are for marketers and admins)." in page
    assert '<a class="btn-link" href="/ui/inbox">Your inbox</a>' in page
    assert "Campaigns" not in nav(page)
    data = await http.get("/ui/campaigns/1/progress.json", headers={"Accept": "application/json"})
    assert data.status == 403
    assert (await data.json())["error"]["code"] == "forbidden"
    sue = await ui_agent("sue@example.com", role=Role.SUPERVISOR)
    assert (await sue.get("/ui/campaigns/1")).status == 403
    ada = await ui_agent("ada@example.com", role=Role.ADMIN)
    admin_page = await ada.page("/ui/campaigns")
    assert "Campaigns" in nav(admin_page) and "Inbox" in nav(admin_page)


async def test_a_marketer_writes_previews_confirms_sends_and_reads_the_results(
    desk: Desk, ui_agent: UiFactory
) -> None:
    assert desk.smtp is not None
    now = desk.hub.clock.now()
    ann = await add_person(desk.db, now, "Ann Lee", {"email": "ann@example.com"})
    await add_person(desk.db, now, "Bob Ray", {"email": "bob@example.com"})
    segment = await add_segment(desk.db, now, "Newsletter")
    mia: Ui = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    await mia.page("/ui/campaigns")
    missing = await mia.http.post("/ui/campaigns", data={"name": "No token"})
    assert missing.status == 403

    created = await mia.post("/ui/campaigns", {"name": "Winter", "segment_id": str(segment)})
    assert created.status == 303
    editor_url = created.headers["Location"].split("?")[0]
    campaign = int(editor_url.split("/")[3])
    editor = await mia.page(editor_url)
    assert "Newsletter" in editor and "2 people" in editor

    form = {
        "name": "Winter",
        "segment_id": str(segment),
        "fallback": "email",
        "content.email.subject": "Sale, {{ customer.first_name }}",
        "content.email.html": "<p>Hello</p>\n<p>{{ customer.name </p>",
        "content.email.text": "Hi {{ customer.first_name }}",
        "then": "save",
    }
    refused = await mia.post(f"/ui/campaigns/{campaign}", form)
    assert refused.status == 422
    page = await refused.text()
    inline = re.search(r'data-error-for="content.email.html"[^>]*>([^<]*)<', page)
    assert inline is not None and inline.group(1).startswith("line 2:")

    preview = await mia.http.post(
        f"/ui/campaigns/{campaign}/preview",
        data={**form, "channel": "email", "customer_id": str(ann.customer_id)},
        headers={"X-CSRF-Token": mia.token, "Accept": "application/json"},
    )
    assert preview.status == 422
    assert (await preview.json())["error"]["fields"]["content.email.html"].startswith("line 2:")
    form["content.email.html"] = "<p>Hello {{ customer.first_name }}</p>"
    preview = await mia.http.post(
        f"/ui/campaigns/{campaign}/preview",
        data={**form, "channel": "email", "customer_id": str(ann.customer_id)},
        headers={"X-CSRF-Token": mia.token, "Accept": "application/json"},
    )
    shown = await preview.json()
    assert (shown["subject"], shown["text"].split("\n")[0]) == ("Sale, Ann", "Hi Ann")

    saved = await mia.post(f"/ui/campaigns/{campaign}", {**form, "then": "send"})
    assert saved.status == 303
    assert saved.headers["Location"] == f"/ui/campaigns/{campaign}/confirm"
    confirm = await mia.page(f"/ui/campaigns/{campaign}/confirm")
    assert "Send “Winter” to 2 people?" in confirm
    past = await mia.get(
        f"/ui/campaigns/{campaign}/confirm?scheduled_at=2001-01-01T10:00&tz_offset=0"
    )
    assert past.status == 422
    assert "must be a moment with a timezone in the future" in await past.text()

    sent = await mia.post(f"/ui/campaigns/{campaign}/send")
    assert sent.status == 303

    async def finished() -> bool:
        response = await mia.get(f"/ui/campaigns/{campaign}/progress.json")
        return bool((await response.json())["finished"])

    await eventually(finished, 20, interval=0.05, what="campaign finished")
    progress = await (await mia.get(f"/ui/campaigns/{campaign}/progress.json")).json()
    assert progress["counts"]["sent"] == 2 and progress["recipients"] == 2
    assert progress["why"].startswith("Finished")
    assert progress["explanation"].startswith("Finished: 2 sent + 0 failed")
    page = await mia.page(f"/ui/campaigns/{campaign}")
    assert "<svg" in page and "Messages sent over time" in page
    assert f'href="/ui/campaigns/{campaign}/export.csv"' in page
    exported = await mia.get(f"/ui/campaigns/{campaign}/export.csv")
    assert (await exported.text()).count("\r\n") == 3
    listing = await mia.page("/ui/campaigns")
    assert "Winter" in listing and "Finished" in listing


async def test_a_marketer_tests_schedules_and_cancels_from_the_pages(
    desk: Desk, ui_agent: UiFactory
) -> None:
    assert desk.smtp is not None
    now = desk.hub.clock.now()
    ann = await add_person(desk.db, now, "Ann Lee", {"email": "ann@example.com"})
    segment = await add_segment(desk.db, now, "Newsletter")
    mia: Ui = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    created = await mia.post("/ui/campaigns", {"name": "Later", "segment_id": str(segment)})
    campaign = int(created.headers["Location"].split("/")[3])
    form = {
        "name": "Later",
        "segment_id": str(segment),
        "content.email.subject": "News for {{ customer.first_name }}",
        "content.email.text": "Hello {{ customer.first_name }}",
    }
    as_ann = {**form, "then": "test", "preview_customer": str(ann.customer_id)}
    tested = await mia.post(f"/ui/campaigns/{campaign}", as_ann)
    assert tested.status == 303
    assert tested.headers["Location"] == f"/ui/campaigns/{campaign}/edit?notice=test"
    [mail] = await desk.smtp.wait_for(1)
    assert (mail.rcpt_tos, mail.message["Subject"]) == (["mia@example.com"], "[TEST] News for Ann")

    # 2099-06-01 10:00 in a browser two hours ahead of UTC (getTimezoneOffset() = -120)
    at = {**form, "then": "schedule", "scheduled_at": "2099-06-01T10:00", "tz_offset": "-120"}
    saved = await mia.post(f"/ui/campaigns/{campaign}", at)
    confirm_url = saved.headers["Location"]
    assert confirm_url.startswith(f"/ui/campaigns/{campaign}/confirm?scheduled_at=")
    confirm = await mia.page(confirm_url)
    assert "Send “Later” to 1 person on 2099-06-01 08:00 UTC?" in confirm
    scheduled = await mia.post(
        f"/ui/campaigns/{campaign}/schedule", {"scheduled_at": "2099-06-01T08:00:00+00:00"}
    )
    assert scheduled.headers["Location"] == f"/ui/campaigns/{campaign}?notice=scheduled"
    page = await mia.page(f"/ui/campaigns/{campaign}")
    assert "Scheduled for" in page and "2099-06-01 08:00" in page
    late = await mia.post(
        f"/ui/campaigns/{campaign}/schedule", {"scheduled_at": "2001-06-01T08:00:00+00:00"}
    )
    assert late.status == 422
    assert "must be a moment with a timezone in the future" in await late.text()

    cancelled = await mia.post(f"/ui/campaigns/{campaign}/cancel")
    assert cancelled.headers["Location"] == f"/ui/campaigns/{campaign}?notice=cancelled"
    page = await mia.page(f"/ui/campaigns/{campaign}?notice=cancelled")
    assert "Campaign cancelled" in page and ">Cancelled</span>" in page
    again = await mia.post(f"/ui/campaigns/{campaign}/resume")
    assert again.status == 409
    assert "a cancelled campaign cannot be resumed" in await again.text()


async def test_failed_and_unconfirmed_recipients_are_offered_a_retry(
    desk: Desk, ui_agent: UiFactory
) -> None:
    assert desk.smtp is not None
    now = desk.hub.clock.now()
    await add_person(desk.db, now, "Ann Lee", {"email": "ann@example.com"})
    bob = await add_person(desk.db, now, "Bob Ray", {"email": "bob@example.com"})
    segment = await add_segment(desk.db, now, "Newsletter")
    mia: Ui = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    created = await mia.post("/ui/campaigns", {"name": "Retry", "segment_id": str(segment)})
    campaign = int(created.headers["Location"].split("/")[3])
    form = {
        "name": "Retry",
        "segment_id": str(segment),
        "content.email.subject": "News",
        "content.email.text": "Hello",
        "then": "save",
    }
    assert (await mia.post(f"/ui/campaigns/{campaign}", form)).status == 303
    desk.smtp.reject_rcpt_with = "550 5.1.1 no such user"
    assert (await mia.post(f"/ui/campaigns/{campaign}/send")).status == 303

    async def progress() -> dict[str, Any]:
        response = await mia.get(f"/ui/campaigns/{campaign}/progress.json")
        found: dict[str, Any] = await response.json()
        return found

    async def finished() -> bool:
        return bool((await progress())["finished"])

    await eventually(finished, 20, interval=0.05, what="campaign finished")
    done = await progress()
    assert done["counts"]["failed"] == 2
    assert done["actions"] == ["retry-failed"]
    page = await mia.page(f"/ui/campaigns/{campaign}")
    assert re.search(
        r'<form method="post" action="[^"]+/retry-failed" data-action="retry-failed"\s*>', page
    )

    # One recipient was in flight when a hub stopped: the page says so and offers its retry.
    async with desk.db.writer() as session:
        await session.execute(
            update(CampaignRecipient)
            .where(CampaignRecipient.customer_id == bob.customer_id)
            .values(state=RecipientState.UNCONFIRMED.value)
        )
        await session.commit()
    shown = await progress()
    assert shown["actions"] == ["retry-failed", "retry-unconfirmed"]
    assert "it is not known whether they got the message" in shown["explanation"]

    desk.smtp.reject_rcpt_with = None
    retried = await mia.post(f"/ui/campaigns/{campaign}/retry-failed")
    assert retried.headers["Location"] == f"/ui/campaigns/{campaign}?notice=retried"
    retried = await mia.post(f"/ui/campaigns/{campaign}/retry-unconfirmed")
    assert retried.headers["Location"] == f"/ui/campaigns/{campaign}?notice=retried"
    await eventually(finished, 20, interval=0.05, what="campaign finished again")
    final = await progress()
    assert (final["counts"]["sent"], final["counts"]["failed"], final["actions"]) == (2, 0, [])
    nothing = await mia.post(f"/ui/campaigns/{campaign}/retry-failed")
    assert nothing.headers["Location"] == f"/ui/campaigns/{campaign}?notice=nothing"
