"""An admin changes settings in the console's API: each value says where it comes from (default,
file, environment, database); a change is stored, audited old -> new and applied at once; bad
input is refused naming the field and nothing is stored; back to the file on DELETE; other
roles are refused."""

from __future__ import annotations

from typing import Any

from hub.core.audit import recent_changes
from hub.db.models import Role
from hub.db.settings_models import SettingOverride
from tests.support.desk import Desk, MakeDesk, auth


async def settings_of(desk: Desk, token: str) -> dict[str, dict[str, Any]]:
    response = await desk.client.get("/api/v1/admin/settings", headers=auth(token))
    assert response.status == 200
    return {item["key"]: item for item in (await response.json())["items"]}


async def test_an_admin_renames_the_instance_and_every_page_says_so(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    before = await settings_of(desk, admin)
    assert before["instance_name"]["value"] == "Relaydesk Demo"
    assert before["instance_name"]["source"] == "file"
    assert before["routing.default_priority"]["source"] == "default"
    assert before["web.public_url"]["variable"] == "RELAYDESK_WEB__PUBLIC_URL"

    changed = await desk.client.put(
        "/api/v1/admin/settings/instance_name", json={"value": "Acme Help"}, headers=auth(admin)
    )
    assert changed.status == 200
    body = await changed.json()
    assert body["value"] == "Acme Help" and body["source"] == "database" and body["version"] == 1
    assert desk.settings.instance_name == "Acme Help"
    assert "Acme Help" in await (await desk.client.get("/ui/login")).text()
    async with desk.db.reader() as session:
        [change] = await recent_changes(session, area="settings")
    assert (change.actor, change.target) == ("admin@example.com", "instance_name")
    assert (change.old, change.new) == ("Relaydesk Demo", "Acme Help")

    back = await desk.client.delete("/api/v1/admin/settings/instance_name", headers=auth(admin))
    assert (await back.json())["source"] == "file"
    assert desk.settings.instance_name == "Relaydesk Demo"


async def test_bad_values_are_refused_naming_the_field_and_nothing_is_stored(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk()
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    cases = [
        ("web.public_url", "ftp://example.com", "web.public_url"),
        ("instance_name", "  ", "instance_name"),
        (
            "sla",
            {"normal": {"first_response_minutes": 0, "resolution_minutes": 60}},
            "sla.normal.first_response_minutes",
        ),
        ("calendars", {"office": {"timezone": "Mars/Olympus"}}, "calendars.office.timezone"),
        # the shipped follow-ups use the office calendar
        ("calendars", {}, "followups.calendar"),
        ("admin.teams", {"support": {"sla_policy": "gold"}}, "admin.teams.support.sla_policy"),
        ("routing.default_priority", "whenever", "routing.default_priority"),
        ("routing.default_team", "nobody", "routing.default_team"),
        (
            "followups",
            {"rules": [{"name": "r", "trigger": "pending", "channels": ["fax"]}]},
            "followups.rules.0.channels",
        ),
    ]
    for key, value, field in cases:
        response = await desk.client.put(
            f"/api/v1/admin/settings/{key}", json={"value": value}, headers=auth(admin)
        )
        assert response.status == 422, key
        assert field in (await response.json())["error"]["fields"], (key, await response.json())
    missing = await desk.client.put(
        "/api/v1/admin/settings/secret_key", json={"value": "x" * 20}, headers=auth(admin)
    )
    assert missing.status == 404
    assert await desk.count(SettingOverride) == 0
    assert desk.settings.web.public_url == "http://127.0.0.1:8080"


async def test_only_admins_change_settings(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    _, supervisor = await desk.agent("sup@example.com", role=Role.SUPERVISOR)
    listed = await desk.client.get("/api/v1/admin/settings", headers=auth(supervisor))
    assert listed.status == 403
    changed = await desk.client.put(
        "/api/v1/admin/settings/instance_name", json={"value": "Mine"}, headers=auth(supervisor)
    )
    assert changed.status == 403
    assert desk.settings.instance_name == "Relaydesk Demo"


async def test_routing_defaults_apply_to_the_next_decision(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, teams=("support", "billing"))
    for key, value in (("routing.default_priority", "high"), ("routing.default_team", "billing")):
        response = await desk.client.put(
            f"/api/v1/admin/settings/{key}", json={"value": value}, headers=auth(admin)
        )
        assert response.status == 200
    dry = await desk.client.post(
        "/api/v1/admin/routing/dry-run",
        json={"channel": "api", "text": "hello there"},
        headers=auth(admin),
    )
    body = await dry.json()
    assert (body["rule"], body["team"], body["priority"]) == (None, "billing", "high")
