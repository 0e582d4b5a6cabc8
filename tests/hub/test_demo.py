"""A newcomer's demo: every configured channel has conversations, some waiting, one whose SLA is
about to run out, others resolved days ago with satisfaction answers (so reports have data),
customers with identities and consent (so the marketer can run a campaign); seeding again adds
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from hub.assembly import database
from hub.config.settings import Settings
from hub.db.campaign_models import Consent
from hub.db.models import Conversation, Customer, Identity, Message, Ticket
from hub.db.report_models import ReportFact
from hub.db.routing_models import CsatResponse
from hub.demo import seed_everything
from hub.platform.clock import SystemClock


async def counts(settings: Settings) -> dict[str, int]:
    async with database(settings) as db, db.reader() as session:
        return {
            model.__name__: int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Conversation, Message, Customer, Identity, CsatResponse, Ticket, Consent)
        }


async def test_the_demo_is_a_living_desk_and_seeding_twice_adds_nothing(
    settings: Settings,
) -> None:
    now = SystemClock().now()
    first = await seed_everything(settings, now)
    assert first.created and first.conversations >= 10
    async with database(settings) as db, db.reader() as session:
        conversations = list((await session.scalars(select(Conversation))).all())
        kinds = {settings.channels[c.channel].kind for c in conversations}
        assert kinds >= {"email", "form", "api", "widget"}
        statuses = {c.status for c in conversations}
        assert statuses >= {"open", "pending", "resolved"}
        resolved = [c for c in conversations if c.status == "resolved"]
        assert len(resolved) >= 4
        assert sum(1 for c in resolved if c.resolved_at and aware(c.resolved_at) < now - DAY) >= 3
        risk = timedelta(minutes=settings.live.sla_risk_minutes)
        at_risk = [
            c
            for c in conversations
            if c.status == "open" and c.sla_due_at and now < aware(c.sla_due_at) <= now + risk
        ]
        assert at_risk, [(c.subject, c.sla_due_at) for c in conversations]
        scores = (await session.scalars(select(CsatResponse.score))).all()
        assert len(set(scores)) >= 3
        assert await session.scalar(select(func.count()).select_from(ReportFact)) > 0
        names = (await session.scalars(select(Customer.name))).all()
        assert any(name.startswith("Visitor from ") for name in names)
        assert all(name for name in names)
        consenting = await session.scalar(select(func.count()).select_from(Consent))
        assert consenting >= 3
        failed = await session.scalar(
            select(func.count()).select_from(Message).where(Message.delivery_state == "failed")
        )
        assert failed == 0
    before = await counts(settings)
    again = await seed_everything(settings, now + timedelta(minutes=5))
    assert (again.created, again.conversations) == (False, 0)
    assert await counts(settings) == before


DAY = timedelta(days=1)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
