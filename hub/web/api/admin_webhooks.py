"""The admin webhook API (admins only): subscriptions created (the secret shown once), changed,
enabled and disabled, deleted; the delivery log with each attempt; redeliver; a test event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.errors import not_found
from hub.db.webhook_models import WebhookSubscription
from hub.integrations import catalog, deliveries, service, subscriptions
from hub.integrations.deliveries import Logged
from hub.platform.targets import Targets
from hub.web.api.admin_agents import ADMINS, CHANGE_ERRORS
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models import webhooks as shapes

TAG = "Admin: webhooks"
BASE = "/api/v1/admin/webhooks"


def shown(subscription: WebhookSubscription) -> shapes.Subscription:
    return shapes.Subscription.model_validate(subscription)


def logged(entry: Logged) -> shapes.Delivery:
    d = entry.delivery
    return shapes.Delivery(
        id=d.id, event=d.event, payload_id=d.dedupe, conversation_id=d.conversation_id,
        state=d.state, attempts=d.attempts, next_attempt_at=d.next_attempt_at,
        last_status=d.last_status, last_error=d.last_error, delivered_at=d.delivered_at,
        created_at=d.created_at, body=d.body,
        tries=[shapes.Attempt.model_validate(a) for a in entry.attempts],
    )  # fmt: skip


@endpoint(
    "GET",
    f"{BASE}/events",
    Doc(TAG, "The events a subscription can choose", "adminWebhookEvents", requires=ADMINS,
        errors=(401, 403)),
)  # fmt: skip
async def events(call: Call) -> shapes.EventKinds:
    items = [shapes.EventKind(name=k, description=v) for k, v in catalog.EVENTS.items()]
    return shapes.EventKinds(version=catalog.VERSION, items=items)


@endpoint(
    "GET",
    BASE,
    Doc(TAG, "Every webhook subscription", "adminListWebhooks", requires=ADMINS,
        errors=(401, 403)),
)  # fmt: skip
async def list_all(call: Call) -> shapes.Subscriptions:
    async with call.hub.db.reader() as session:
        rows = await session.scalars(select(WebhookSubscription).order_by(WebhookSubscription.id))
        return shapes.Subscriptions(items=[shown(row) for row in rows])


@endpoint(
    "POST",
    BASE,
    Doc(TAG, "Subscribe a URL to events", "adminCreateWebhook", requires=ADMINS,
        ok={201: "Subscribed: the signing secret is shown only now"},
        errors=(400, 401, 403, 413, 422)),
)  # fmt: skip
async def create(call: Call, body: shapes.NewSubscription) -> Reply[shapes.SubscriptionCreated]:
    hub = call.hub
    await subscriptions.check_target(body.url, Targets.of(hub.settings.outgoing))
    async with hub.db.writer() as session:
        made = await subscriptions.create(
            session, call.principal.agent_id, body.name, body.url, body.events, hub.clock.now()
        )
        await session.commit()
        answer = shapes.SubscriptionCreated(
            **shown(made.subscription).model_dump(), secret=made.secret
        )
    return Reply(answer, 201)


async def _subscription(session: AsyncSession, ident: int) -> WebhookSubscription:
    found = await session.get(WebhookSubscription, ident, with_for_update=True)
    if found is None:
        raise not_found("webhook subscription", ident)
    return found


@endpoint(
    "PATCH",
    f"{BASE}/{{id}}",
    Doc(TAG, "Change a subscription: name, URL, events; enable or disable it",
        "adminChangeWebhook", requires=ADMINS, errors=CHANGE_ERRORS),
)  # fmt: skip
async def change(
    call: Call, path: shapes.SubscriptionId, body: shapes.SubscriptionChange
) -> shapes.Subscription:
    hub = call.hub
    await subscriptions.check_target(body.url, Targets.of(hub.settings.outgoing))
    async with hub.db.writer() as session:
        found = await _subscription(session, path.id)
        await subscriptions.change(
            session, call.principal.agent_id, found, hub.clock.now(),
            name=body.name, url=body.url, events=body.events, enabled=body.enabled,
        )  # fmt: skip
        await session.commit()
        return shown(found)


@endpoint(
    "DELETE",
    f"{BASE}/{{id}}",
    Doc(TAG, "Delete a subscription with its delivery log", "adminDeleteWebhook",
        requires=ADMINS, errors=(401, 403, 404),
        description="Deliveries still owed are dropped (none is sent or retried); the "
        "delivery log goes with it. The audit log keeps what was deleted."),
)  # fmt: skip
async def delete(call: Call, path: shapes.SubscriptionId) -> shapes.SubscriptionDeleted:
    hub = call.hub
    async with hub.db.writer() as session:
        found = await _subscription(session, path.id)
        removed = await subscriptions.remove(
            session, call.principal.agent_id, found, hub.clock.now()
        )
        await session.commit()
    return shapes.SubscriptionDeleted(
        id=path.id, name=removed.name, pending_dropped=removed.pending,
        deliveries_removed=removed.logged,
    )  # fmt: skip


@endpoint(
    "GET",
    f"{BASE}/{{id}}/deliveries",
    Doc(TAG, "A subscription's delivery log, newest first, with every attempt",
        "adminWebhookDeliveries", requires=ADMINS, errors=(400, 401, 403, 404)),
)  # fmt: skip
async def delivery_log(
    call: Call, path: shapes.SubscriptionId, query: shapes.DeliveryQuery
) -> shapes.Deliveries:
    async with call.hub.db.reader() as session:
        if await session.get(WebhookSubscription, path.id) is None:
            raise not_found("webhook subscription", path.id)
        found = await deliveries.delivery_log(
            session, path.id, before=query.before, limit=query.limit
        )
        return shapes.Deliveries(items=[logged(entry) for entry in found])


@endpoint(
    "POST",
    f"{BASE}/{{id}}/deliveries/{{delivery_id}}/redeliver",
    Doc(TAG, "Send a delivery again now (same body, same ids)", "adminRedeliverWebhook",
        requires=ADMINS, ok={202: "Queued"}, errors=(401, 403, 404),
        notes={409: "The subscription is disabled (subscription_disabled)"}),
)  # fmt: skip
async def redeliver(call: Call, path: shapes.DeliveryId) -> Reply[shapes.Delivery]:
    hub = call.hub
    async with hub.db.writer() as session:
        await _subscription(session, path.id)
        found = await deliveries.delivery_of(session, path.id, path.delivery_id)
        if found is None:
            raise not_found("webhook delivery", path.delivery_id)
        await service.redeliver(session, found, call.principal.agent_id, hub.clock.now())
        await session.commit()
        answer = logged(await deliveries.logged_one(session, found))
    hub.webhooks.wake()
    return Reply(answer, 202)


@endpoint(
    "POST",
    f"{BASE}/{{id}}/test",
    Doc(TAG, "Send the subscription a test event (ping)", "adminTestWebhook",
        requires=ADMINS, ok={202: "Queued"}, errors=(401, 403, 404)),
)  # fmt: skip
async def test(call: Call, path: shapes.SubscriptionId) -> Reply[shapes.Delivery]:
    hub = call.hub
    async with hub.db.writer() as session:
        found = await _subscription(session, path.id)
        made = await service.send_test(session, found, call.principal.agent_id, hub.clock.now())
        await session.commit()
        answer = logged(Logged(made, []))
    hub.webhooks.wake()
    return Reply(answer, 202)


ENDPOINTS: tuple[Endpoint, ...] = (
    events, list_all, create, change, delete, delivery_log, redeliver, test
)  # fmt: skip
