"""Deliveries are durable and honest: a failing receiver gets retries with backoff, then the
subscription is disabled and every admin told; an admin redelivers any delivery with the same
body and ids; a test event arrives on demand; a change that rolled back sends nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hub.core.conversations import set_status
from hub.db.admin_models import AdminChange
from hub.db.models import Conversation, ConversationStatus
from hub.db.routing_models import AdminNotice
from tests.hub.integrations.conftest import arrived, deliver, names, subscribe
from tests.support.desk import MakeDesk, auth
from tests.support.recorder import HttpRecorder

FAILING = {
    "webhooks.disable_after_failures": 3,
    "webhooks.disable_after_hours": 1,
    "webhooks.retry_base_seconds": 60,
    "webhooks.retry_max_seconds": 60,
}


async def test_a_failing_receiver_is_retried_then_disabled_and_the_admins_told(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk(**FAILING)
    sub = await subscribe(desk, receiver, ["conversation.created"])
    receiver.statuses = [500] * 10
    await desk.customer_writes("hello")
    await deliver(desk)
    for _ in range(2):  # two retries, a minute apart: three failures, but not yet an hour
        desk.clock.advance(timedelta(seconds=61))
        await deliver(desk)
    assert len(receiver.requests) == 3
    assert len({r.headers["X-Relaydesk-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time
    shown = await desk.client.get("/api/v1/admin/webhooks", headers=auth(sub.admin))
    assert (await shown.json())["items"][0]["enabled"] is True

    desk.clock.advance(timedelta(hours=1))
    await deliver(desk)  # the fourth failure, an hour after the first: disabled
    shown = await desk.client.get("/api/v1/admin/webhooks", headers=auth(sub.admin))
    [subscription] = (await shown.json())["items"]
    assert subscription["enabled"] is False
    assert subscription["disabled_reason"] == "4 failed deliveries in a row over 1 hours"
    async with desk.db.reader() as session:
        [notice] = (await session.scalars(select(AdminNotice))).all()
        audit = (
            await session.scalars(select(AdminChange).where(AdminChange.area == "webhooks"))
        ).all()
    assert notice.kind == "webhook_disabled" and "crm" in notice.text
    assert [a.action for a in audit] == ["create", "disable"]
    log = await desk.client.get(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries", headers=auth(sub.admin)
    )
    [delivery] = (await log.json())["items"]
    assert delivery["state"] == "failed" and delivery["last_status"] == 500
    assert [t["http_status"] for t in delivery["tries"]] == [500] * 4
    assert delivery["tries"][0]["response_excerpt"] == '{"ok": false}'

    receiver.requests.clear()
    await desk.customer_writes("anyone?", sender="bob@example.com")
    desk.clock.advance(timedelta(hours=2))
    await deliver(desk)
    assert receiver.requests == []  # a disabled subscription is sent nothing


async def test_a_retry_that_succeeds_delivers_once_with_the_same_ids(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk(**FAILING)
    sub = await subscribe(desk, receiver, ["conversation.created"])
    receiver.statuses = [503]
    await desk.customer_writes("hello")
    await deliver(desk)
    desk.clock.advance(timedelta(seconds=61))
    await deliver(desk)
    desk.clock.advance(timedelta(minutes=10))
    await deliver(desk)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["X-Relaydesk-Delivery"] == second.headers["X-Relaydesk-Delivery"]
    log = await desk.client.get(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries", headers=auth(sub.admin)
    )
    [delivery] = (await log.json())["items"]
    assert delivery["state"] == "delivered"
    assert [t["outcome"] for t in reversed(delivery["tries"])] == ["error", "ok"]


async def test_an_admin_redelivers_a_delivery_and_sends_a_test_event(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver, ["conversation.created"])
    await desk.customer_writes("hello")
    await deliver(desk)
    [first] = receiver.requests
    log = await desk.client.get(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries", headers=auth(sub.admin)
    )
    [delivery] = (await log.json())["items"]
    again = await desk.client.post(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries/{delivery['id']}/redeliver",
        headers=auth(sub.admin),
    )
    assert again.status == 202, await again.text()
    await deliver(desk)
    _, second = receiver.requests
    assert second.body == first.body
    assert second.headers["X-Relaydesk-Delivery"] == str(delivery["id"])
    log = await desk.client.get(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries", headers=auth(sub.admin)
    )
    [delivery] = (await log.json())["items"]
    assert [t["manual"] for t in delivery["tries"]] == [True, False]

    tested = await desk.client.post(
        f"/api/v1/admin/webhooks/{sub.id}/test", headers=auth(sub.admin)
    )
    assert tested.status == 202
    await deliver(desk)
    assert names(arrived(receiver, sub.secret)) == ["conversation.created"] * 2 + ["ping"]

    off = await desk.client.patch(
        f"/api/v1/admin/webhooks/{sub.id}", json={"enabled": False}, headers=auth(sub.admin)
    )
    assert (await off.json())["enabled"] is False
    refused = await desk.client.post(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries/{delivery['id']}/redeliver",
        headers=auth(sub.admin),
    )
    assert refused.status == 409
    assert (await refused.json())["error"]["code"] == "subscription_disabled"
    missing = await desk.client.post(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries/999999/redeliver", headers=auth(sub.admin)
    )
    assert missing.status == 404


async def test_a_change_that_rolled_back_sends_nothing(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    opened = await desk.customer_writes("hello")
    sub = await subscribe(desk, receiver, ["conversation.status_changed"])
    async with desk.db.writer() as session:
        conversation = await session.get(Conversation, opened.conversation_id)
        assert conversation is not None
        await set_status(session, conversation, ConversationStatus.RESOLVED, desk.clock.now())
        await session.flush()
        await session.rollback()
    await deliver(desk)
    assert receiver.requests == []
    async with desk.db.writer() as session:
        conversation = await session.get(Conversation, opened.conversation_id)
        assert conversation is not None
        await set_status(session, conversation, ConversationStatus.PENDING, desk.clock.now())
        await session.commit()
    await deliver(desk)
    [body] = arrived(receiver, sub.secret)
    assert body["data"]["status"] == "pending"


async def test_the_event_log_keeps_what_a_subscription_has_not_read(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk(workers=False)  # nothing reads the log before the pruning
    sub = await subscribe(desk, receiver, ["conversation.created"])
    await desk.customer_writes("hello")
    desk.clock.advance(timedelta(days=30))
    await desk.hub.events.prune()  # the live feed's retention is a week
    await deliver(desk)
    assert names(arrived(receiver, sub.secret)) == ["conversation.created"]


async def test_erasing_a_customer_deletes_the_deliveries_about_them(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver, ["message.created"])
    opened = await desk.customer_writes("my secret order number is 1234")
    await deliver(desk)
    assert any("1234" in r.body.decode() for r in receiver.requests)
    erased = await desk.client.post(
        f"/api/v1/customers/{opened.customer_id}/erase", headers=auth(sub.admin)
    )
    assert erased.status == 200, await erased.text()
    log = await desk.client.get(
        f"/api/v1/admin/webhooks/{sub.id}/deliveries", headers=auth(sub.admin)
    )
    assert (await log.json())["items"] == []
