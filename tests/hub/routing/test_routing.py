"""Routing: rules from config pick team and priority; the team's online agents with spare
capacity take new conversations in turn; nobody available leaves it unassigned. These run on the
configured rules and policies, with no worker running and a clock that starts now."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from channels.base import InboundMessage
from hub.config.settings import RoutingRule, RoutingSettings, Settings
from hub.core.conversations import set_status
from hub.core.staff import add_agent
from hub.db.models import Agent, Conversation, ConversationStatus, Presence, Role, Team, Ticket
from hub.platform.clock import ManualClock
from hub.routing.rules import Actions, Facts, RuleSet
from tests.support.desk import Desk, MakeDesk
from tests.support.messages import inbound


@pytest.fixture
async def desk(make_desk: MakeDesk, settings: Settings) -> Desk:
    now = ManualClock(datetime.now(UTC).replace(microsecond=0))
    return await make_desk(now, settings=settings, memory=(), workers=False)


async def agent(
    desk: Desk,
    email: str,
    *,
    teams: tuple[str, ...] = ("support",),
    presence: Presence = Presence.ONLINE,
    capacity: int = 10,
    active: bool = True,
) -> int:
    async with desk.db.writer() as session:
        created = await add_agent(
            session,
            email=email,
            name=email.split("@")[0].title(),
            role=Role.AGENT,
            now=desk.clock.now(),
            teams=teams,
            presence=presence,
            capacity=capacity,
        )
        created.active = active
        await session.commit()
        return created.id


async def assignees(desk: Desk) -> list[int | None]:
    async with desk.db.reader() as session:
        found = await session.scalars(select(Conversation.assignee_id).order_by(Conversation.id))
        return list(found)


async def open_counts(desk: Desk) -> dict[int, int]:
    async with desk.db.reader() as session:
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


async def test_keyword_rules_pick_team_and_priority(desk: Desk) -> None:
    routing = desk.settings.routing
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


async def test_rule_routes_to_team_agent_with_priority_and_sla(desk: Desk) -> None:
    alice = await agent(desk, "alice@example.com", teams=("support",))
    bob = await agent(desk, "bob@example.com", teams=("billing",))
    [billing] = await desk.ingest(inbound("1", subject="Wrong invoice"))
    [support] = await desk.ingest(inbound("2", address="tom@example.com", text="Hi"))
    async with desk.db.reader() as session:
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
    assert ticket.first_response_due_at == desk.clock.now() + timedelta(minutes=60)


async def test_round_robin_is_fair_across_agents(desk: Desk) -> None:
    team = [await agent(desk, f"agent{n}@example.com") for n in range(3)]
    await desk.ingest(*customers(4))  # one batch
    for message in customers(5)[4:]:
        await desk.ingest(message)  # and one by one
    for n in range(5, 9):
        await desk.ingest(inbound(f"m{n}", address=f"customer{n}@example.com"))
    order = await assignees(desk)
    assert order == [team[0], team[1], team[2]] * 3
    assert await open_counts(desk) == dict.fromkeys(team, 3)


async def test_capacity_is_respected(desk: Desk) -> None:
    small = await agent(desk, "small@example.com", capacity=1)
    large = await agent(desk, "large@example.com", capacity=2)
    await desk.ingest(*customers(4))
    order = await assignees(desk)
    assert Counter(order) == {small: 1, large: 2, None: 1}
    assert order[-1] is None
    assert await open_counts(desk) == {small: 1, large: 2}


async def test_zero_capacity_agent_gets_nothing(desk: Desk) -> None:
    await agent(desk, "nocap@example.com", capacity=0)
    await desk.ingest(*customers(2))
    assert await assignees(desk) == [None, None]


async def test_offline_away_and_inactive_agents_are_skipped(desk: Desk) -> None:
    await agent(desk, "off@example.com", presence=Presence.OFFLINE)
    await agent(desk, "away@example.com", presence=Presence.AWAY)
    await agent(desk, "gone@example.com", active=False)
    await agent(desk, "other-team@example.com", teams=("billing",))
    online = await agent(desk, "on@example.com")
    await desk.ingest(*customers(3))
    assert await assignees(desk) == [online, online, online]


async def test_unassigned_when_nobody_is_available(desk: Desk) -> None:
    await agent(desk, "off@example.com", presence=Presence.OFFLINE)
    [result] = await desk.ingest(inbound("1"))
    async with desk.db.reader() as session:
        queued = await session.get(Conversation, result.conversation_id)
        support = await session.scalar(select(Team.id).where(Team.slug == "support"))
    assert queued is not None
    assert (queued.team_id, queued.assignee_id) == (support, None)
    assert result.ticket_number is not None  # still a ticket, still acknowledged
    assert queued.status == "open"


async def test_resolving_frees_capacity_for_the_next_conversation(desk: Desk) -> None:
    only = await agent(desk, "only@example.com", capacity=1)
    [first] = await desk.ingest(inbound("1"))
    [waiting] = await desk.ingest(inbound("2", address="tom@example.com"))
    assert await assignees(desk) == [only, None]
    async with desk.db.writer() as session:
        done = await session.get(Conversation, first.conversation_id)
        assert done is not None
        await set_status(session, done, ConversationStatus.RESOLVED, datetime.now(UTC))
        await session.commit()
    assert await open_counts(desk) == {only: 0}
    await desk.ingest(inbound("3", address="ann@example.com"))
    assert (await assignees(desk))[-1] == only
    assert waiting.conversation_id != first.conversation_id


async def test_follow_up_messages_are_not_routed_again(desk: Desk) -> None:
    first_agent = await agent(desk, "a@example.com")
    await agent(desk, "b@example.com")
    await desk.ingest(inbound("1"), inbound("2"), inbound("3"))
    assert await assignees(desk) == [first_agent]
    assert (await open_counts(desk))[first_agent] == 1
