"""The channels page: status and endpoint per channel, secrets masked and replaceable (never in
the page), and a test send whose outcome is shown beside the form."""

from __future__ import annotations

from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk


async def test_an_admin_checks_the_channels(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN)
    page = await admin.page("/ui/admin/channels")
    assert "/api/v1/inbound/api" in page and "token: ••••••••" in page
    assert "demo-inbound-token-0123456789" not in page and "demo-callback-secret" not in page

    empty = await admin.post("/ui/admin/channels/api/secret", {"field": "token", "value": ""})
    assert empty.status == 422 and "value: is required" in await empty.text()
    replaced = await admin.post(
        "/ui/admin/channels/api/secret", {"field": "token", "value": "another-long-token-123"}
    )
    assert replaced.status == 303
    page = await admin.page("/ui/admin/channels")
    assert "another-long-token-123" not in page
    assert desk.settings.channels["api"].token == "another-long-token-123"  # type: ignore[attr-defined]

    sent = await admin.post("/ui/admin/channels/api/test", {"to": "ops@example.com"})
    assert sent.status == 200 and "Test message sent." in await sent.text()
    no_address = await admin.post("/ui/admin/channels/api/test", {"to": ""})
    assert no_address.status == 422 and "give the address" in await no_address.text()
