"""Canned responses: supervisors keep the library; agents find entries by fuzzy search and get
them filled in for the conversation's customer."""

from __future__ import annotations

from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk


async def test_library_fuzzy_search_and_variables(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR)
    sue = await ui_agent("sue@example.com")
    for shortcut, title, body in (
        (
            "refund",
            "Refund policy",
            "Hi {{ customer.first_name }}, refunds take 5 days. {{ agent.name }}",
        ),
        ("shipping", "Shipping times", "Hello {{customer.name}}, parcels ship in 24 h."),
        ("ticket", "Your ticket", "Your ticket is #{{ ticket.number }} {{ unknown.thing }}"),
    ):
        response = await boss.post(
            "/ui/canned", {"shortcut": shortcut, "title": title, "body": body}
        )
        assert response.status == 303
    assert "Refund policy" in await sue.page("/ui/canned")
    cid = (await inbound(desk, "Where is my money?", name="Jane Cooper")).conversation_id

    found = await sue.get(
        f"/ui/canned/search?conversation={cid}&q=refnd", headers={"Accept": "application/json"}
    )
    assert found.status == 200
    items = (await found.json())["items"]
    assert items[0]["title"] == "Refund policy"
    assert items[0]["text"] == "Hi Jane, refunds take 5 days. Sue"
    everything = await (await sue.get(f"/ui/canned/search?conversation={cid}&q=")).json()
    texts = {item["shortcut"]: item["text"] for item in everything["items"]}
    assert texts["shipping"] == "Hello Jane Cooper, parcels ship in 24 h."
    assert (
        texts["ticket"].startswith("Your ticket is #1") and "{{ unknown.thing }}" in texts["ticket"]
    )

    assert (
        await sue.post("/ui/canned", {"shortcut": "x", "title": "X", "body": "x"})
    ).status == 403
    again = await boss.post("/ui/canned", {"shortcut": "refund", "title": "Dup", "body": "x"})
    assert again.status == 422
    assert "already used" in await again.text()
