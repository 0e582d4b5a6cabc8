"""The routing rule action "send a template": the rendered template goes out on the reply route
marked automated; a template that fails goes to the admin who saved it and onto the
conversation, never to the customer."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.models import Direction, Message, Role
from tests.support.desk import Desk, MakeDesk, auth

WELCOME_RULE = {"name": "welcome", "channels": ["api"], "template": "welcome"}


async def _save(desk: Desk, admin: str, txt: str) -> None:
    saved = await desk.client.put(
        "/api/v1/routing/templates/welcome", json={"txt": txt}, headers=auth(admin)
    )
    assert saved.status == 200, await saved.text()


async def _log(desk: Desk, conversation_id: int) -> list[Message]:
    async with desk.hub.db.reader() as session:
        rows = await session.scalars(
            select(Message).where(Message.conversation_id == conversation_id).order_by(Message.id)
        )
        return list(rows.all())


async def test_rule_template_is_sent_marked_automated(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.rules": [WELCOME_RULE]})
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    await _save(desk, admin, "Welcome, {{ customer.name }} ({{ inside_hours }})")
    opened = await desk.customer_writes("Hello there")
    [welcome] = await desk.wait_sent(1, channel="api")
    assert welcome.text == "Welcome, Jane Cooper (True)\n"
    assert welcome.automated is True
    said = [
        m
        for m in await _log(desk, int(opened.conversation_id))
        if m.direction == Direction.OUTBOUND and m.channel == "api"
    ]
    assert [m.automated for m in said] == [True]


async def test_broken_rule_template_goes_to_the_admin(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.rules": [WELCOME_RULE]})
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    # Renders with the sample ticket, fails on a real conversation without one in the context.
    await _save(desk, admin, "Welcome, ticket #{{ ticket.number }}")
    opened = await desk.customer_writes("Hello there")
    conversation_id = int(opened.conversation_id)
    notices = await desk.client.get("/api/v1/routing/notices", headers=auth(admin))
    [notice] = (await notices.json())["items"]
    assert notice["kind"] == "template_error"
    assert notice["conversation_id"] == conversation_id
    assert notice["text"].startswith(f"Template welcome for conversation {conversation_id}")
    log = await _log(desk, conversation_id)
    assert not [m for m in log if m.direction == Direction.OUTBOUND and m.channel == "api"]
    events = [m.text for m in log if m.direction == Direction.EVENT]
    assert any(text.startswith("Template welcome not sent: template welcome:") for text in events)
