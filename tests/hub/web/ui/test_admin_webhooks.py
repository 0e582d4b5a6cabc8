"""The admin console's webhook pages: an admin deletes a subscription after a page that says
what goes with it (deliveries not yet sent, the delivery log); a post without the form's CSRF
token deletes nothing."""

from __future__ import annotations

import re

from sqlalchemy import select

from hub.db.models import Role
from hub.db.webhook_models import WebhookDelivery, WebhookSubscription
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk
from tests.support.recorder import HttpRecorder


async def test_an_admin_deletes_a_subscription_after_confirming(
    desk: Desk, ui_agent: UiFactory
) -> None:
    receiver = HttpRecorder()
    await receiver.start()
    try:
        ada = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
        made = await ada.post(
            "/ui/admin/webhooks",
            [("name", "crm"), ("url", receiver.url("/hooks")), ("events", "conversation.created")],
        )
        assert made.status == 201, await made.text()
        async with desk.db.reader() as session:
            [ident] = (await session.scalars(select(WebhookSubscription.id))).all()
        receiver.statuses = [500]
        await inbound(desk, "hello")
        await desk.hub.webhooks.run_once()  # the first attempt fails: a retry is scheduled

        detail = await ada.page(f"/ui/admin/webhooks/{ident}")
        assert f'href="/ui/admin/webhooks/{ident}/delete"' in detail
        confirm = await ada.page(f"/ui/admin/webhooks/{ident}/delete")
        assert "Delete the subscription crm?" in confirm
        assert "1 delivery not yet sent will not be sent." in confirm
        assert re.search(r"delivery log \(1 delivery", confirm)

        forged = await ada.http.post(f"/ui/admin/webhooks/{ident}/delete", allow_redirects=False)
        assert forged.status == 403
        assert await desk.count(WebhookSubscription) == 1

        deleted = await ada.post(f"/ui/admin/webhooks/{ident}/delete")
        assert deleted.status == 303
        assert deleted.headers["Location"].startswith("/ui/admin/webhooks?notice=")
        listing = await ada.page(deleted.headers["Location"])
        assert "Subscription deleted: nothing more is sent to it" in listing
        assert "No subscriptions yet." in listing
        assert await desk.count(WebhookSubscription) == 0
        assert await desk.count(WebhookDelivery) == 0
        gone = await ada.get(f"/ui/admin/webhooks/{ident}/delete")
        assert gone.status == 404
    finally:
        await receiver.stop()
