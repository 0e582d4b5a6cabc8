"""An admin deletes a webhook subscription: what was still owed to it is never sent (not even
a retry already scheduled), its delivery log goes with it, the audit log says what was deleted,
and the subscription is gone from the API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.db.admin_models import AdminChange
from hub.db.webhook_models import WebhookAttempt, WebhookDelivery
from tests.hub.integrations.conftest import deliver, subscribe
from tests.support.desk import MakeDesk, auth
from tests.support.recorder import HttpRecorder

BASE = "/api/v1/admin/webhooks"


async def test_an_admin_deletes_a_subscription_and_no_more_deliveries_are_made(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver, ["conversation.created"])
    other = await subscribe(desk, receiver, ["conversation.created"], name="warehouse")
    receiver.statuses = [500, 500]  # both first attempts fail: retries are scheduled
    await desk.customer_writes("hello")
    await deliver(desk)
    assert len(receiver.requests) == 2

    gone = await desk.client.delete(f"{BASE}/{sub.id}", headers=auth(sub.admin))
    assert gone.status == 200, await gone.text()
    assert await gone.json() == {
        "id": sub.id, "name": "crm", "pending_dropped": 1, "deliveries_removed": 1,
    }  # fmt: skip

    receiver.requests.clear()
    desk.clock.advance(timedelta(hours=2))
    await desk.customer_writes("still there?", sender="bob@example.com")
    await deliver(desk)
    # only the other subscription hears anything: its retry and the new conversation
    assert {r.path for r in receiver.requests} == {"/hooks"}
    assert len(receiver.requests) == 2
    async with desk.db.reader() as session:
        left = set((await session.scalars(select(WebhookDelivery.subscription_id))).all())
        attempts = set((await session.scalars(select(WebhookAttempt.subscription_id))).all())
        [audit] = (
            await session.scalars(
                select(AdminChange).where(
                    AdminChange.area == "webhooks", AdminChange.action == "delete"
                )
            )
        ).all()
    assert left == attempts == {other.id}
    assert audit.target == "crm" and "pending_dropped" in audit.new_value
    assert sub.secret not in audit.old_value + audit.new_value

    listed = await (await desk.client.get(BASE, headers=auth(sub.admin))).json()
    assert [s["name"] for s in listed["items"]] == ["warehouse"]
    for answer in (
        await desk.client.delete(f"{BASE}/{sub.id}", headers=auth(sub.admin)),
        await desk.client.get(f"{BASE}/{sub.id}/deliveries", headers=auth(sub.admin)),
    ):
        assert answer.status == 404


async def test_only_admins_delete_subscriptions(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver, ["conversation.created"])
    _, agent = await desk.agent("agent@example.com")
    refused = await desk.client.delete(f"{BASE}/{sub.id}", headers=auth(agent))
    assert refused.status == 403
    listed = await (await desk.client.get(BASE, headers=auth(sub.admin))).json()
    assert [s["id"] for s in listed["items"]] == [sub.id]
