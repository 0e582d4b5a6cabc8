"""The admin console's team page, start page and audit log in the web app: teams created,
renamed and given members with refusals beside their field; the first-run checklist ticks
items off; the audit log filters by area and pages back."""

from __future__ import annotations

import re

from hub.db.models import Role, Team
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk


async def test_an_admin_creates_renames_and_staffs_a_team(desk: Desk, ui_agent: UiFactory) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    bob_id, _ = await desk.agent("bob@example.com", teams=())
    before = await desk.count(Team)
    assert (await ada.post("/ui/admin/teams", {"name": "VIP Care"})).status == 303
    page = await ada.page("/ui/admin/teams?notice=team_created")
    assert "Team created." in page and "VIP Care" in page and "vip-care" in page
    team_id = int(re.findall(r'data-team="(\d+)"', page)[-1])

    duplicate = await ada.post("/ui/admin/teams", {"name": "vip care"})
    assert duplicate.status == 409
    assert "a team named vip care already exists" in await duplicate.text()
    empty = await ada.post(f"/ui/admin/teams/{team_id}", {"name": "   "})
    assert empty.status == 422 and 'id="rename-' in await empty.text()
    assert await desk.count(Team) == before + 1

    assert (await ada.post(f"/ui/admin/teams/{team_id}", {"name": "Key Accounts"})).status == 303
    added = await ada.post(f"/ui/admin/teams/{team_id}/members", {"agent_id": str(bob_id)})
    assert added.status == 303
    page = await ada.page("/ui/admin/teams")
    assert "Key Accounts" in page and f'href="/ui/admin/agents/{bob_id}">Bob</a>' in page
    again = await ada.post(f"/ui/admin/teams/{team_id}/members", {"agent_id": str(bob_id)})
    assert again.status == 409 and "already a member" in await again.text()
    unknown = await ada.post(f"/ui/admin/teams/{team_id}/members", {"agent_id": "987654"})
    assert unknown.status == 422 and "no agent with id 987654" in await unknown.text()
    removed = await ada.post(f"/ui/admin/teams/{team_id}/members/remove", {"agent_id": str(bob_id)})
    assert removed.status == 303
    assert (await ada.post("/ui/admin/teams/987654", {"name": "Ghost"})).status == 404

    audit = await ada.page("/ui/admin/audit?area=teams")
    for action in ("create", "rename", "add member", "remove member"):
        assert f"{action} · " in audit


async def test_the_start_page_ticks_off_what_is_done(desk: Desk, ui_agent: UiFactory) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    page = await ada.page("/ui/inbox")
    assert 'href="/ui/admin"' in page and ">Admin<" in page
    home = await ada.page("/ui/admin")
    assert 'class="todo" data-check="channel"' in home
    assert 'class="todo" data-check="agents"' in home
    assert 'class="done" data-check="hours"' in home  # the example configures a calendar
    assert 'href="/ui/admin/channels"' in home and 'href="/ui/admin/sla"' in home
    assert "1 of 3 done" in home
    await desk.agent("bob@example.com")
    await inbound(desk, "Hello")
    home = await ada.page("/ui/admin")
    assert "All set" in home and 'class="todo"' not in home
    assert "Messages received on mail" in home


async def test_the_audit_log_pages_back(desk: Desk, ui_agent: UiFactory) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    for number in range(55):
        assert (await ada.post("/ui/admin/teams", {"name": f"Team {number:02d}"})).status == 303
    first = await ada.page("/ui/admin/audit")
    assert first.count("<tr data-change=") == 50
    assert "Team 54" in first and "Team 04" not in first
    older = re.search(r'href="/ui/admin/audit\?before=(\d+)"', first)
    assert older is not None
    second = await ada.page(f"/ui/admin/audit?before={older.group(1)}")
    assert second.count("<tr data-change=") == 5 and "Team 00" in second
    assert "Older" not in second
    assert (await ada.get("/ui/admin/audit?before=x")).status == 400
