"""Routing: rules from config pick team and priority; the team's online agents with spare
capacity take new conversations in turn; nobody available leaves it unassigned."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from channels.base import InboundMessage
from hub.config.settings import RoutingRule, RoutingSettings
from hub.core.conversations import set_status
from hub.core.staff import add_agent
from hub.db.models import Agent, Conversation, ConversationStatus, Presence, Role, Team, Ticket
from hub.routing.rules import Actions, Facts, RuleSet
from tests.support.pipeline import Core, inbound


async def agent(
    core: Core,
    email: str,
    *,
    teams: tuple[str, ...] = ("support",),
    presence: Presence = Presence.ONLINE,
    capacity: int = 10,
    active: bool = True,
) -> int:
    async with core.db.writer() as session:
        created = await add_agent(
            session,
            email=email,
            name=email.split("@")[0].title(),
            role=Role.AGENT,
            now=core.clock.now(),
            teams=teams,
            presence=presence,
            capacity=capacity,
        )
        created.active = active
        await session.commit()
        return created.id


async def assignees(core: Core) -> list[int | None]:
    async with core.db.reader() as session:
        found = await session.scalars(select(Conversation.assignee_id).order_by(Conversation.id))
        return list(found)


async def open_counts(core: Core) -> dict[int, int]:
    async with core.db.reader() as session:
        rows = await session.execute(select(Agent.id, Agent.open_count))
        return {agent_id: count for agent_id, count in rows}


def decide(routing: RoutingSettings, message: InboundMessage) -> Actions:
    """The rule engine's decision on the message's own facts (channel, subject and text)."""
    facts = Facts(
        channel=message.channel,
        channel_kind="",
        text=f"{message.subject or ''}\n{message.text}",
        has_attachment=bool(message.attachments),
    )
    return RuleSet(routing, routing.rules).decide(facts)


def customers(count: int, text: str = "Hello") -> list[InboundMessage]:
    return [
        inbound(f"m{n}", address=f"customer{n}@example.com", name=f"Customer {n}", text=text)
        for n in range(count)
    ]


async def test_keyword_rules_pick_team_and_priority(core: Core) -> None:
    routing = core.settings.routing
    billing = decide(routing, inbound("1", subject="Question about my INVOICE"))
    assert (billing.team, billing.priority, billing.rule) == (
        "billing",
        "high",
        "billing questions",
    )
    outage = decide(routing, inbound("2", text="The site is down since 9:00"))
    assert (outage.team, outage.priority, outage.rule) == ("support", "urgent", "outage")
    plain = decide(routing, inbound("3", text="How do I change my password?"))
    assert (plain.team, plain.priority, plain.rule) == ("support", "normal", None)
    # Whole words only: "downtown" is not "down", "prepayment" is not "payment".
    near = decide(routing, inbound("4", text="Our downtown office paid by prepayment"))
    assert near.rule is None
    # The first matching rule wins.
    both = decide(routing, inbound("5", text="Refund please, the shop is down"))
    assert both.rule == "billing questions"


def test_rules_restricted_to_channels_and_keywords_with_symbols() -> None:
    routing = RoutingSettings(
        default_team="support",
        rules=(
            RoutingRule(name="form sales", channels=("contact",), team="sales", priority="low"),
            RoutingRule(name="cpp", keywords=("c++", "#vip"), team="experts", priority="high"),
        ),
    )
    assert decide(routing, inbound("1", channel="contact")).team == "sales"
    assert decide(routing, inbound("2", channel="api")).team == "support"
    assert decide(routing, inbound("3", text="my C++ build fails")).team == "experts"
    assert decide(routing, inbound("4", text="#VIP customer here")).team == "experts"
    assert decide(routing, inbound("5", text="c+ or c are fine")).team == "support"


async def test_rule_routes_to_team_agent_with_priority_and_sla(core: Core) -> None:
    alice = await agent(core, "alice@example.com", teams=("support",))
    bob = await agent(core, "bob@example.com", teams=("billing",))
    [billing] = await core.ingest(inbound("1", subject="Wrong invoice"))
    [support] = await core.ingest(inbound("2", address="tom@example.com", text="Hi"))
    async with core.db.reader() as session:
        routed = await session.get(Conversation, billing.conversation_id)
        other = await session.get(Conversation, support.conversation_id)
        team = await session.scalar(select(Team).where(Team.slug == "billing"))
        ticket = await session.scalar(
            select(Ticket).where(Ticket.conversation_id == billing.conversation_id)
        )
    assert routed is not None and other is not None and team is not None and ticket is not None
    assert (routed.team_id, routed.assignee_id, routed.priority) == (team.id, bob, "high")
    assert (other.assignee_id, other.priority) == (alice, "normal")
    assert ticket.priority == "high"
    assert ticket.first_response_due_at == core.clock.now() + timedelta(minutes=60)


async def test_round_robin_is_fair_across_agents(core: Core) -> None:
    team = [await agent(core, f"agent{n}@example.com") for n in range(3)]
    await core.ingest(*customers(4))  # one batch
    for message in customers(5)[4:]:
        await core.ingest(message)  # and one by one
    for n in range(5, 9):
        await core.ingest(inbound(f"m{n}", address=f"customer{n}@example.com"))
    order = await assignees(core)
    assert order == [team[0], team[1], team[2]] * 3
    assert await open_counts(core) == dict.fromkeys(team, 3)


async def test_capacity_is_respected(core: Core) -> None:
    small = await agent(core, "small@example.com", capacity=1)
    large = await agent(core, "large@example.com", capacity=2)
    await core.ingest(*customers(4))
    order = await assignees(core)
    assert Counter(order) == {small: 1, large: 2, None: 1}
    assert order[-1] is None
    assert await open_counts(core) == {small: 1, large: 2}


async def test_zero_capacity_agent_gets_nothing(core: Core) -> None:
    await agent(core, "nocap@example.com", capacity=0)
    await core.ingest(*customers(2))
    assert await assignees(core) == [None, None]


async def test_offline_away_and_inactive_agents_are_skipped(core: Core) -> None:
    await agent(core, "off@example.com", presence=Presence.OFFLINE)
    await agent(core, "away@example.com", presence=Presence.AWAY)
    await agent(core, "gone@example.com", active=False)
    await agent(core, "other-team@example.com", teams=("billing",))
    online = await agent(core, "on@example.com")
    await core.ingest(*customers(3))
    assert await assignees(core) == [online, online, online]


async def test_unassigned_when_nobody_is_available(core: Core) -> None:
    await agent(core, "off@example.com", presence=Presence.OFFLINE)
    [result] = await core.ingest(inbound("1"))
    async with core.db.reader() as session:
        queued = await session.get(Conversation, result.conversation_id)
        support = await session.scalar(select(Team.id).where(Team.slug == "support"))
    assert queued is not None
    assert (queued.team_id, queued.assignee_id) == (support, None)
    assert result.ticket_number is not None  # still a ticket, still acknowledged
    assert queued.status == "open"


async def test_resolving_frees_capacity_for_the_next_conversation(core: Core) -> None:
    only = await agent(core, "only@example.com", capacity=1)
    [first] = await core.ingest(inbound("1"))
    [waiting] = await core.ingest(inbound("2", address="tom@example.com"))
    assert await assignees(core) == [only, None]
    async with core.db.writer() as session:
        done = await session.get(Conversation, first.conversation_id)
        assert done is not None
        await set_status(session, done, ConversationStatus.RESOLVED, datetime.now(UTC))
        await session.commit()
    assert await open_counts(core) == {only: 0}
    await core.ingest(inbound("3", address="ann@example.com"))
    assert (await assignees(core))[-1] == only
    assert waiting.conversation_id != first.conversation_id


async def test_follow_up_messages_are_not_routed_again(core: Core) -> None:
    first_agent = await agent(core, "a@example.com")
    await agent(core, "b@example.com")
    await core.ingest(inbound("1"), inbound("2"), inbound("3"))
    assert await assignees(core) == [first_agent]
    assert (await open_counts(core))[first_agent] == 1
