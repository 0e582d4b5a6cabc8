"""Demo data: teams, an agent for every role, customers and a living inbox (hub/demo/scenes.py),
so a new user sees a working hub at once. Seeding twice adds nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assembly import assemble, session_of
from hub.config.settings import Settings
from hub.core.customer_tags import set_tags
from hub.core.customers import name_key
from hub.core.staff import add_agent, agent_by_email, create_token, ensure_team
from hub.db.models import Agent, Customer, Identity, Role
from hub.demo.scenes import seed_conversations
from hub.platform.clock import ManualClock

DEMO_PASSWORD = "relaydesk-demo"
AGENTS = (
    ("alice@demo.relaydesk.local", "Alice Agent", Role.AGENT, ("support",)),
    ("bob@demo.relaydesk.local", "Bob Billing", Role.AGENT, ("billing",)),
    ("sam@demo.relaydesk.local", "Sam Supervisor", Role.SUPERVISOR, ("support", "billing")),
    ("ada@demo.relaydesk.local", "Ada Admin", Role.ADMIN, ()),
    ("mia@demo.relaydesk.local", "Mia Marketer", Role.MARKETER, ()),
)
TOKEN_AGENT = "sam@demo.relaydesk.local"
CUSTOMERS = (
    ("Jane Cooper", "Acme Corp", "gold", "jane.cooper@example.com"),
    ("Tom Baker", "Baker & Sons", "standard", "tom@bakerandsons.example"),
    ("Priya Raman", "Northwind", "platinum", "priya.raman@northwind.example"),
)


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class DemoLogin:
    email: str
    password: str
    token: str
    created: bool
    conversations: int = 0  # conversations this call seeded


async def seed_demo(session: AsyncSession, now: datetime) -> DemoLogin:
    """Create the demo's teams, agents and customers once; every call returns a fresh API token
    for the demo supervisor (who sees support and billing, where the demo's messages go)."""
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
    agent = await agent_by_email(session, TOKEN_AGENT)
    assert agent is not None
    token = await create_token(session, agent, now, label="demo")
    return DemoLogin(TOKEN_AGENT, DEMO_PASSWORD, token, created)


async def seed_everything(settings: Settings, now: datetime) -> DemoLogin:
    """The demo data and its conversations (played on a clock of their own, see scenes.py)."""
    async with session_of(settings) as session:
        login = await seed_demo(session, now)
    clock = ManualClock(now)
    async with assemble(settings, clock=clock, start_workers=False) as hub:
        played = await seed_conversations(hub, clock, now)
    return replace(login, conversations=played)


async def demo_accounts(session: AsyncSession) -> list[DemoAccount]:
    """The demo's sign-ins that still exist and are active, one per demo agent."""
    emails = [email for email, *_ in AGENTS]
    rows = (
        await session.scalars(select(Agent).where(Agent.email.in_(emails), Agent.active.is_(True)))
    ).all()
    by_email = {agent.email: agent for agent in rows}
    return [
        DemoAccount(str(agent.role), agent.email, agent.name)
        for email in emails
        if (agent := by_email.get(email)) is not None
    ]
