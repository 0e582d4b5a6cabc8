"""The SLA page: an admin edits targets per priority, policies, calendars (hours, time zone,
holidays) and team defaults; bad input is shown beside the form and nothing is stored; changes
are audited as "sla" (targets, team defaults) or "hours" (calendars)."""

from __future__ import annotations

from datetime import date

from hub.core.audit import recent_changes
from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk

TARGETS = {
    f"{p}.{k}": v
    for p, first, resolution in (
        ("low", "1440", "10080"),
        ("normal", "240", "2880"),
        ("high", "60", "1440"),
        ("urgent", "15", "240"),
    )
    for k, v in (("first_response_minutes", first), ("resolution_minutes", resolution))
}


async def test_an_admin_sets_targets_hours_and_team_defaults(
    desk: Desk, ui_agent: UiFactory
) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN, teams=("support", "billing"))
    page = await admin.page("/ui/admin/sla")
    assert "Targets per priority" in page and "office" in page and "premium" in page

    bad = await admin.post("/ui/admin/sla/targets", {**TARGETS, "normal.resolution_minutes": "0"})
    assert bad.status == 422
    assert "sla.normal.resolution_minutes: Input should be greater than or equal to 1" in (
        await bad.text()
    )
    assert (await admin.post("/ui/admin/sla/targets", TARGETS)).status == 303
    assert desk.settings.sla["normal"].first_response_minutes == 240

    weekend = {
        "name": "weekend",
        "timezone": "Europe/Paris",
        "hours.sat": "10:00-14:00",
        "hours.sun": "10:00-12:00, 13:00-14:00",
        "holidays": "2026-12-25\n2027-01-01",
    }
    wrong = await admin.post("/ui/admin/sla/calendars", {**weekend, "hours.sat": "10-14"})
    assert wrong.status == 422 and "is not a span like 09:00-17:30" in await wrong.text()
    assert "weekend" not in desk.settings.calendars
    assert (await admin.post("/ui/admin/sla/calendars", weekend)).status == 303
    calendar = desk.settings.calendars["weekend"]
    assert calendar.hours["sun"] == ("10:00-12:00", "13:00-14:00")
    assert calendar.holidays == (date(2026, 12, 25), date(2027, 1, 1))
    in_use = await admin.post("/ui/admin/sla/calendars/delete", {"name": "office"})
    assert in_use.status == 422 and "no calendar named &#39;office&#39;" in await in_use.text()

    policy = {
        "name": "billing day",
        "calendar": "weekend",
        "first_response_minutes": "30",
        "resolution_minutes": "600",
        "warn_before_minutes": "5",
        "tiers": "",
    }
    assert (await admin.post("/ui/admin/sla/policies", policy)).status == 303
    teams = await admin.post(
        "/ui/admin/sla/teams",
        {"team:billing.calendar": "weekend", "team:billing.sla_policy": "billing day"},
    )
    assert teams.status == 303
    billing = desk.settings.admin.teams["billing"]
    assert (billing.calendar, billing.sla_policy) == ("weekend", "billing day")
    page = await admin.page("/ui/admin/sla")
    assert '<option value="billing day" selected>' in page

    async with desk.db.reader() as session:
        hours = await recent_changes(session, area="hours")
        sla = await recent_changes(session, area="sla")
    assert [(c.target, c.action) for c in hours] == [("calendars", "change")]
    assert [c.target for c in sla] == ["admin.teams", "sla_policies", "sla"]
    assert '"first_response_minutes": 480' in sla[-1].old
