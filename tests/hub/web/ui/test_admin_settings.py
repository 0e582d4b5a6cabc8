"""The settings page: an admin sees where each value comes from, changes the safe ones (a bad
one is shown beside its field and not stored) and hands a value back to the file; other roles
get a 403 page."""

from __future__ import annotations

from hub.core.audit import recent_changes
from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk


async def test_an_admin_changes_the_public_url_on_the_settings_page(
    desk: Desk, ui_agent: UiFactory
) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN)
    page = await admin.page("/ui/admin/settings")
    assert 'aria-current="page">Settings' in page.replace("\n", "")
    assert "Config file" in page and "RELAYDESK_WEB__PUBLIC_URL" in page

    bad = await admin.post("/ui/admin/settings/web.public_url", {"value": "example.com"})
    assert bad.status == 422
    assert "must be an http:// or https:// address" in await bad.text()
    assert desk.settings.web.public_url == "http://127.0.0.1:8080"

    good = await admin.post(
        "/ui/admin/settings/web.public_url", {"value": "https://help.example.com"}
    )
    assert good.status == 303
    page = await admin.page("/ui/admin/settings")
    assert 'value="https://help.example.com"' in page and "Admin console" in page
    assert desk.settings.web.public_url == "https://help.example.com"
    followups = await admin.post("/ui/admin/settings/followups", {"value": '{"rules": ['})
    assert followups.status == 422 and "is not valid JSON" in await followups.text()

    back = await admin.post("/ui/admin/settings/web.public_url/reset")
    assert back.status == 303
    assert desk.settings.web.public_url == "http://127.0.0.1:8080"
    async with desk.db.reader() as session:
        changes = await recent_changes(session, area="settings")
    assert [(c.action, c.new) for c in changes] == [
        ("reset", "http://127.0.0.1:8080"),
        ("change", "https://help.example.com"),
    ]


async def test_agents_cannot_open_the_settings_page(ui_agent: UiFactory) -> None:
    agent = await ui_agent("agent@example.com")
    response = await agent.get("/ui/admin/settings")
    assert response.status == 403
    refused = await agent.post("/ui/admin/settings/instance_name", {"value": "Mine"})
    assert refused.status == 403
