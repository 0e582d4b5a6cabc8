"""A desk that keeps its outgoing requests to public addresses (``outgoing.allow_private_targets``
off, as in production): an admin cannot subscribe a URL on a loopback, private, link-local or
multicast address (the answer names the address), nor a name resolving to one; and a name that
resolves to 127.0.0.1 only after it was registered reaches nothing when the delivery connects,
the delivery log says why. A network the admin allows is reached."""

from __future__ import annotations

from sqlalchemy import update

from hub.db.models import Role
from hub.db.webhook_models import WebhookSubscription
from tests.hub.integrations.conftest import deliver
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.recorder import HttpRecorder

BASE = "/api/v1/admin/webhooks"
PRODUCTION = {"outgoing.allow_private_targets": False}
PUBLIC = "https://93.184.216.34/hooks"  # a public address: accepted without a DNS lookup


async def _admin(desk: Desk) -> str:
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    return admin


async def test_a_webhook_url_on_a_non_public_address_is_refused_naming_it(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(**PRODUCTION)
    admin = await _admin(desk)
    events = ["conversation.created"]
    for url, said in (
        ("http://10.0.0.1/hooks", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a link-local address"),
        ("http://[::1]:8080/hooks", "::1 is a loopback address"),
        ("http://224.0.0.1/hooks", "224.0.0.1 is a multicast address"),
        ("http://0.0.0.0:8080/", "0.0.0.0 is an unspecified address"),
        ("http://localhost:8080/hooks", "localhost resolves to 127.0.0.1, a loopback address"),
    ):
        answer = await desk.client.post(
            BASE, json={"name": "crm", "url": url, "events": events}, headers=auth(admin)
        )
        assert answer.status == 422, (url, await answer.text())
        error = (await answer.json())["error"]
        assert said in error["fields"]["url"] and said in error["message"], error

    made = await desk.client.post(
        BASE, json={"name": "crm", "url": PUBLIC, "events": events}, headers=auth(admin)
    )
    assert made.status == 201, await made.text()
    ident = (await made.json())["id"]
    moved = await desk.client.patch(
        f"{BASE}/{ident}", json={"url": "http://192.168.1.20/hooks"}, headers=auth(admin)
    )
    assert moved.status == 422
    assert "192.168.1.20 is a private address" in (await moved.json())["error"]["fields"]["url"]
    listed = await (await desk.client.get(BASE, headers=auth(admin))).json()
    assert [s["url"] for s in listed["items"]] == [PUBLIC]


async def test_a_hostname_resolving_to_127_0_0_1_is_refused_at_delivery(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk(**PRODUCTION)
    admin = await _admin(desk)
    made = await desk.client.post(
        BASE,
        json={"name": "crm", "url": PUBLIC, "events": ["conversation.created"]},
        headers=auth(admin),
    )
    ident = (await made.json())["id"]
    # Later the registered name points at the hub's own machine (DNS rebinding, or a record
    # changed): the receiver on 127.0.0.1 stands for what the hub must not reach.
    rebound = receiver.url("/hooks").replace("127.0.0.1", "localhost")
    async with desk.db.writer() as session:
        await session.execute(
            update(WebhookSubscription).where(WebhookSubscription.id == ident).values(url=rebound)
        )
        await session.commit()

    await desk.customer_writes("hello")
    await deliver(desk)
    assert receiver.requests == []
    log = await desk.client.get(f"{BASE}/{ident}/deliveries", headers=auth(admin))
    [delivery] = (await log.json())["items"]
    assert delivery["state"] == "pending"  # retried later, like any unreachable receiver
    [attempt] = delivery["tries"]
    assert "refused to connect" in attempt["error"] and "127.0.0.1" in attempt["error"]
    assert "a loopback address" in attempt["error"]


async def test_an_allowed_network_is_reached(make_desk: MakeDesk, receiver: HttpRecorder) -> None:
    desk = await make_desk(**PRODUCTION, **{"outgoing.allowed_networks": ["127.0.0.0/8"]})
    admin = await _admin(desk)
    made = await desk.client.post(
        BASE,
        json={"name": "crm", "url": receiver.url("/hooks"), "events": ["conversation.created"]},
        headers=auth(admin),
    )
    assert made.status == 201, await made.text()
    await desk.customer_writes("hello")
    await deliver(desk)
    assert len(receiver.requests) == 1
