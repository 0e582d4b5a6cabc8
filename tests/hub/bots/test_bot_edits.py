"""An admin's edit to a bot applies to its next event at once, in every hub process sharing
the database: the hubs read the bots for each wave of events they deliver, never keep them."""

from __future__ import annotations

from hub.bots import signing
from hub.db.models import Role
from tests.hub.bots.conftest import register
from tests.hub.bots.test_handoff import state_of
from tests.support.desk import MakeDesk, auth
from tests.support.fake_bot import FakeBot


def echo(body: dict[str, object]) -> dict[str, object]:
    if body.get("event") != "message.created":
        return {}
    return {"messages": [{"text": "echo"}]}


async def test_a_new_url_and_a_disabled_bot_apply_at_once_in_a_second_hub(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    # Two hub processes on the same database; the test runs their job runners by hand.
    desk = await make_desk(workers=False)
    other = await make_desk(workers=False)
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    made = await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/old"), channels=["api"]
    )
    fake_bot.answer = echo
    opened = await other.customer_writes("first question")
    await other.run_jobs()  # the second hub has delivered to the bot as it was
    assert {r.path for r in fake_bot.received} == {"/old"}

    await other.customer_writes("second question")  # its event is queued, not yet delivered
    moved = await desk.client.patch(
        f"/api/v1/bots/{made['id']}", json={"url": fake_bot.url("/new")}, headers=auth(admin)
    )
    assert moved.status == 200, await moved.text()
    await other.run_jobs()
    assert [r.path for r in fake_bot.received][-1] == "/new"
    assert [b["message"]["text"] for b in fake_bot.events("message.created")] == [
        "first question",
        "second question",
    ]

    off = await desk.client.patch(
        f"/api/v1/bots/{made['id']}", json={"enabled": False}, headers=auth(admin)
    )
    assert off.status == 200, await off.text()
    await other.customer_writes("third question")
    await other.run_jobs()
    state = await state_of(other, opened.conversation_id)
    assert (state.state, state.reason) == ("pending_human", "bot_disabled")
    assert len(fake_bot.events("message.created")) == 2  # the disabled bot heard no more


async def test_a_secret_rotated_in_one_hub_signs_the_next_event_in_the_other(
    make_desk: MakeDesk, fake_bot: FakeBot
) -> None:
    desk = await make_desk(workers=False)
    other = await make_desk(workers=False)
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    made = await register(
        desk, name="helper", kind="webhook", url=fake_bot.url("/events"), channels=["api"]
    )
    fake_bot.answer = echo
    await other.customer_writes("first question")
    await other.run_jobs()
    rotated = await desk.client.post(f"/api/v1/bots/{made['id']}/credentials", headers=auth(admin))
    assert rotated.status in (200, 201), await rotated.text()
    secret = (await rotated.json())["secret"]
    await other.customer_writes("second question")
    await other.run_jobs()
    last = fake_bot.received[-1]
    stamp = last.headers[signing.TIMESTAMP]
    assert signing.verify(
        secret, stamp, last.headers[signing.SIGNATURE], last.raw, float(stamp)
    ) is None  # fmt: skip
