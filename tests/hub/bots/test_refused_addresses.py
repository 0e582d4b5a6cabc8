"""With outgoing requests kept to public addresses (production): an admin cannot register a
bot at a private or loopback URL (the answer names the address), and a bot whose name resolves
to 127.0.0.1 by the time an event is sent is not reached; its delivery log says why."""

from __future__ import annotations

from sqlalchemy import select, update

from hub.db.bots_models import Bot, BotDelivery
from hub.db.models import Role
from tests.hub.bots.conftest import register
from tests.support.desk import MakeDesk, auth
from tests.support.fake_bot import FakeBot

PRODUCTION = {"outgoing.allow_private_targets": False}


async def test_a_bot_url_on_a_private_address_is_refused_naming_it(make_desk: MakeDesk) -> None:
    desk = await make_desk(**PRODUCTION)
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    new = {"name": "helper", "kind": "webhook", "channels": ["api"]}
    for url, said in (
        ("http://10.0.0.1/events", "10.0.0.1 is a private address"),
        ("http://169.254.169.254/latest", "169.254.169.254 is a link-local address"),
        ("http://localhost:5005/webhooks/rest/webhook", "localhost resolves to 127.0.0.1"),
    ):
        answer = await desk.client.post(
            "/api/v1/bots", json={**new, "url": url}, headers=auth(admin)
        )
        assert answer.status == 422, (url, await answer.text())
        assert said in (await answer.json())["error"]["fields"]["url"]
    made = await register(desk, **new, url="https://93.184.216.34/events")
    changed = await desk.client.patch(
        f"/api/v1/bots/{made['id']}", json={"url": "http://[::1]/events"}, headers=auth(admin)
    )
    assert changed.status == 422
    assert "::1 is a loopback address" in (await changed.json())["error"]["fields"]["url"]


async def test_a_bot_whose_name_resolves_to_127_0_0_1_is_not_reached(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(**PRODUCTION)
    made = await register(
        desk, name="helper", kind="webhook", url="https://93.184.216.34/events", channels=["api"]
    )
    async with desk.db.writer() as session:  # the bot's name now points at this machine
        rebound = fake_bot.url("/events").replace("127.0.0.1", "localhost")
        await session.execute(update(Bot).where(Bot.id == made["id"]).values(url=rebound))
        await session.commit()
    await desk.customer_writes("my invoice is wrong")
    await desk.run_jobs()
    assert fake_bot.received == []
    async with desk.db.reader() as session:
        errors = (await session.scalars(select(BotDelivery.error))).all()
    assert errors and all(e and "refused to connect" in e and "127.0.0.1" in e for e in errors)
