"""On a desk that keeps outgoing requests to public addresses (production), an admin who
registers a bot or a webhook at a private address from the admin pages sees the refusal beside
the URL field, naming the address; nothing is saved."""

from __future__ import annotations

import pytest

from hub.config.settings import Settings
from hub.db.bots_models import Bot
from hub.db.models import Role
from hub.db.webhook_models import WebhookSubscription
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

NEW_BOT = {
    "name": "helper", "kind": "webhook", "url": "http://10.1.2.3/events", "hours": "always",
    "timeout_ms": "3000", "max_errors": "2", "max_turns_without_progress": "3", "enabled": "on",
}  # fmt: skip


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(
        database_url,
        **fake_endpoints(smtp_sink, callback_server),
        **{"outgoing.allow_private_targets": False},
    )


async def test_a_private_bot_or_webhook_url_is_refused_beside_the_field(
    desk: Desk, ui_agent: UiFactory
) -> None:
    ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    refused = await ada.post("/ui/admin/bots", NEW_BOT)
    assert refused.status == 422
    page = await refused.text()
    assert "10.1.2.3 is a private address" in page and 'id="new-url-error"' in page
    assert await desk.count(Bot) == 0

    hook = await ada.post(
        "/ui/admin/webhooks",
        [("name", "crm"), ("url", "http://[fd00::7]/hooks"), ("events", "csat.received")],
    )
    assert hook.status == 422
    page = await hook.text()
    assert 'id="new-url-error"' in page and "fd00::7 is a private address" in page
    assert await desk.count(WebhookSubscription) == 0
