"""A customer's profile: every identity, the timeline of conversations and tickets across
channels (one the viewer may not open is listed without its subject), and the ratings given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.db.models import Role
from tests.support.agent_api import call
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk

NOW = datetime.now(UTC)


async def test_profile_timeline_and_ratings(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    await desk.agent("bob@example.com", teams=("billing",))
    jane = await seed_customer(
        desk.hub,
        "Jane Cooper",
        emails=["jane@example.com"],
        telegram=[("777001", "jane_c")],
    )
    mail = await seed_conversation(
        desk.hub, jane, NOW - timedelta(days=3), subject="Parcel late", ticket="solved", csat=5
    )
    chat = await seed_conversation(
        desk.hub, jane, NOW - timedelta(days=1), channel="telegram", subject="Refund?"
    )
    billing = await seed_conversation(
        desk.hub, jane, NOW, team="billing", subject="Invoice dispute", ticket="pending"
    )

    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{jane}/profile", alice)

    assert status == 200
    assert [(i["kind"], i["address"]) for i in profile["identities"]] == [
        ("email", "jane@example.com"),
        ("telegram", "777001"),
    ]
    assert [
        (e["conversation_id"], e["visible"], e["channel"], e["subject"], e["ticket_status"])
        for e in profile["timeline"]
    ] == [
        (billing, False, "mail", "", "pending"),
        (chat, True, "telegram", "Refund?", "open"),
        (mail, True, "mail", "Parcel late", "solved"),
    ]
    assert profile["open_tickets"] == 2
    assert [(r["conversation_id"], r["score"]) for r in profile["ratings"]] == [(mail, 5)]
    assert profile["consents"] == [] and profile["campaigns"] == []


async def test_profile_of_a_customer_one_may_not_see(desk: Desk) -> None:
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    _, mark = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    await desk.agent("bob@example.com", teams=("billing",))
    jane = await seed_customer(desk.hub, "Jane Cooper")
    await seed_conversation(desk.hub, jane, NOW, team="billing", subject="Invoice")

    status, body = await call(desk.client, "GET", f"/api/v1/customers/{jane}/profile", alice)
    assert status == 404 and body["error"]["code"] == "not_found"
    status, profile = await call(desk.client, "GET", f"/api/v1/customers/{jane}/profile", mark)
    assert status == 200
    assert [(e["visible"], e["subject"]) for e in profile["timeline"]] == [(False, "")]
