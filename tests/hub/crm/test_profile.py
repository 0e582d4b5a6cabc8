"""A customer's profile: every identity, the timeline of conversations and tickets across
channels (one the viewer may not open is listed without its subject), the ratings given, the
consent of each identity and the campaigns the customer received and answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from hub.core.consent import record_consent
from hub.db.campaign_models import Campaign, CampaignRecipient, ConsentSource, ConsentState
from hub.db.models import Identity, Role
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

    await consent_and_campaign(desk, jane)

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
    assert [(c["kind"], c["state"], c["source"]) for c in profile["consents"]] == [
        ("email", "revoked", "unsubscribe"),
        ("telegram", "unknown", None),
    ]
    assert [
        (c["campaign"], c["channel"], c["state"], c["replied"]) for c in profile["campaigns"]
    ] == [("Spring sale", "mail", "sent", True)]


async def consent_and_campaign(desk: Desk, customer_id: int) -> None:
    async with desk.hub.db.writer() as session:
        email = await session.scalar(
            select(Identity.id).where(Identity.customer_id == customer_id, Identity.kind == "email")
        )
        assert email is not None
        await record_consent(session, email, ConsentState.GRANTED, ConsentSource.FORM, NOW)
        campaign = Campaign(
            name="Spring sale", fallback=[], content={}, created_at=NOW, updated_at=NOW
        )
        session.add(campaign)
        await session.flush()
        session.add(
            CampaignRecipient(
                campaign_id=campaign.id,
                customer_id=customer_id,
                identity_id=email,
                channel="mail",
                state="sent",
                next_attempt_at=NOW,
                queued_at=NOW,
                sent_at=NOW,
                replied_at=NOW,
            )
        )
        await record_consent(
            session,
            email,
            ConsentState.REVOKED,
            ConsentSource.UNSUBSCRIBE,
            NOW,
            campaign_id=campaign.id,
        )
        await session.commit()


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
