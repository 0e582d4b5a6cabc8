"""The report pages: supervisors and admins see every report with its chart and table and
export it as CSV; agents and marketers are turned away with a clear page; a bad filter is an
error page naming it."""

from __future__ import annotations

import csv
import io

from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk

PAGES = (
    "/ui/reports",
    "/ui/reports/volume",
    "/ui/reports/sla",
    "/ui/reports/csat",
    "/ui/reports/agents",
    "/ui/reports/conversations?metric=first_response",
)


async def test_supervisor_sees_charts_tables_and_exports(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    await inbound(desk, "Where is my parcel?")
    for path in PAGES:
        html = await boss.page(path)
        assert "<table" in html, path
        if "conversations" not in path:
            assert '<svg class="chart"' in html, path
    inbox = await boss.page("/ui/inbox")
    assert 'href="/ui/reports"' in inbox  # the main navigation leads there
    volume = await boss.page("/ui/reports/volume")
    assert "<td>1</td>" in volume  # one customer message, one new conversation today
    for name in ("times", "volume", "sla", "csat", "agents", "conversations"):
        response = await boss.get(f"/ui/reports/{name}.csv")
        assert response.status == 200, name
        assert response.content_type == "text/csv"
        assert "attachment" in response.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await response.text())))
        assert rows and rows[0], name
    per_conversation = await boss.get("/ui/reports/conversations.csv")
    header = next(csv.reader(io.StringIO(await per_conversation.text())))
    assert "first_response_business_seconds" in header


async def test_agents_and_marketers_are_turned_away(desk: Desk, ui_agent: UiFactory) -> None:
    for role in (Role.AGENT, Role.MARKETER):
        person = await ui_agent(f"{role.value}@example.com", role=role)
        for path in ("/ui/reports", "/ui/reports/sla", "/ui/reports/times.csv"):
            response = await person.get(path)
            assert response.status == 403, path
            assert "Reports are for supervisors and admins" in await response.text()
        assert 'href="/ui/reports"' not in await person.page("/ui/canned")


async def test_a_bad_filter_names_itself(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN)
    response = await admin.get("/ui/reports?start=2026-05-01&end=2026-04-01")
    assert response.status == 400
    assert "end" in await response.text()
    response = await admin.get("/ui/reports/conversations?metric=bogus")
    assert response.status == 400
