"""Supervisors read the bots' figures on the reports page: containment per bot and channel,
handoffs by reason and the bot's response time, each as a chart with its table."""

from __future__ import annotations

from hub.db.models import Role
from tests.hub.bots.conftest import fake_bot, register  # noqa: F401  (the fixture)
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk, auth
from tests.support.fake_bot import FakeBot


async def test_a_supervisor_sees_containment_handoffs_and_bot_speed(
    desk: Desk,
    ui_agent: UiFactory,
    fake_bot: FakeBot,  # noqa: F811
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    _, agent = await desk.agent("agent@example.com")
    await register(desk, name="helper", kind="webhook", url=fake_bot.url("/events"),
                   channels=["mail"])  # fmt: skip
    fake_bot.answer = lambda body: (
        {"messages": [{"text": "Your parcel left today."}]}
        if body["event"] == "message.created"
        else {}
    )
    solved = (await inbound(desk, "Where is my parcel?")).conversation_id
    await desk.run_jobs()
    done = await desk.client.patch(
        f"/api/v1/conversations/{solved}", json={"status": "resolved"}, headers=auth(agent)
    )
    assert done.status == 200
    await inbound(desk, "I want to talk to a person", email="other@example.com")

    page = await boss.page("/ui/reports/bots")
    assert 'aria-current="page">Bots</a>' in page
    assert 'data-figure="containment">50.0 %' in page
    assert page.count('<svg class="chart"') == 3
    row = page[page.index('data-bot="helper" data-channel="mail"') :]
    row = row[: row.index("</tr>")]
    cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
    assert cells[:4] == ["2", "1", "50.0 %", "1"]
    assert cells[4] != "-"  # the bot's p50 answer time, in ms
    assert (
        'data-reason="customer_asked"><th scope="row">the customer asked for a person</th><td>1<'
        in page
    )

    other = await boss.page("/ui/reports/bots?channel=api")
    assert "No bot conversations in this period." in other
    sue = await ui_agent("sue@example.com")
    assert (await sue.get("/ui/reports/bots")).status == 403
