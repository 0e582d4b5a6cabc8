"""Demo data: a few teams, agents and customers, so a new user sees a working hub at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from hub.core.customer_tags import set_tags
from hub.core.customers import name_key
from hub.core.staff import add_agent, agent_by_email, create_token, ensure_team
from hub.db.models import Customer, Identity, Role

DEMO_PASSWORD = "relaydesk-demo"
AGENTS = (
    ("alice@demo.relaydesk.local", "Alice Agent", Role.AGENT, ("support",)),
    ("bob@demo.relaydesk.local", "Bob Billing", Role.AGENT, ("billing",)),
    ("sam@demo.relaydesk.local", "Sam Supervisor", Role.SUPERVISOR, ("support", "billing")),
    ("ada@demo.relaydesk.local", "Ada Admin", Role.ADMIN, ()),
    ("mia@demo.relaydesk.local", "Mia Marketer", Role.MARKETER, ()),
)
CUSTOMERS = (
    ("Jane Cooper", "Acme Corp", "gold", "jane.cooper@example.com"),
    ("Tom Baker", "Baker & Sons", "standard", "tom@bakerandsons.example"),
    ("Priya Raman", "Northwind", "platinum", "priya.raman@northwind.example"),
)


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    token: str
    created: bool


async def seed_demo(session: AsyncSession, now: datetime) -> DemoLogin:
    """Create the demo data once; every call returns a fresh API token for the demo agent."""
    await ensure_team(session, "support", "Support")
    await ensure_team(session, "billing", "Billing")
    first_email = AGENTS[0][0]
    existing = await agent_by_email(session, first_email)
    created = existing is None
    if created:
        for email, name, role, teams in AGENTS:
            await add_agent(
                session,
                email=email,
                name=name,
                role=role,
                now=now,
                password=DEMO_PASSWORD,
                teams=teams,  # offline until they sign in: nobody is routed work unseen
            )
        for name, company, tier, address in CUSTOMERS:
            customer = Customer(
                name=name,
                name_key=name_key(name),
                company=company,
                tier=tier,
                tags=[],
                attributes={},
                consent={"email": {"granted": True}},
                preferred_channel="mail",
                created_at=now,
            )
            session.add(customer)
            await session.flush()
            await set_tags(session, customer, ["demo"])
            session.add(
                Identity(
                    customer_id=customer.id,
                    kind="email",
                    address=address,
                    display_name=name,
                    created_at=now,
                )
            )
    agent = await agent_by_email(session, first_email)
    assert agent is not None
    token = await create_token(session, agent, now, label="demo")
    return DemoLogin(first_email, DEMO_PASSWORD, token, created)
