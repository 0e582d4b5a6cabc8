"""Assignment strategies seen from outside: customers write through the API channel, agents
pick up conversations. Round robin is fair, least-loaded respects capacity, skills and sticky
routing pick the right person, nobody is pushed over capacity by concurrent messages, waiting
conversations are assigned oldest first when someone is free, and work moves on when an
assignee goes offline or does not answer."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from sqlalchemy import select

from hub.db.models import Agent, Conversation, ConversationStatus, Presence, Role
from tests.support.desk import MakeDesk, auth


async def test_round_robin_is_fair_across_many_agents(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    agents = [(await desk.agent(f"rr{i}@example.com", capacity=100))[0] for i in range(7)]
    results = await asyncio.gather(
        *(desk.customer_writes("Hello", sender=f"c{i}@example.com") for i in range(70))
    )
    assignees = Counter([(await desk.conversation(r.conversation_id)).assignee_id for r in results])
    assert set(assignees) == set(agents)
    assert set(assignees.values()) == {10}


async def test_round_robin_stays_fair_when_two_processes_assign_at_once(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk()
    other = await make_desk(clock=desk.clock)  # a second hub process on the same database
    agents = [(await desk.agent(f"rr2p{i}@example.com", capacity=100))[0] for i in range(5)]
    results = await asyncio.gather(
        *(
            (other if i % 2 else desk).customer_writes("Hello", sender=f"q{i}@example.com")
            for i in range(40)
        )
    )
    assignees = Counter([(await desk.conversation(r.conversation_id)).assignee_id for r in results])
    assert set(assignees) == set(agents)
    assert set(assignees.values()) == {8}


async def test_least_loaded_fills_by_share_of_capacity(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.assignment.default_strategy": "least_loaded"})
    big, _ = await desk.agent("big@example.com", capacity=6)
    small, _ = await desk.agent("small@example.com", capacity=2)
    results = [await desk.customer_writes("Hi", sender=f"l{i}@example.com") for i in range(8)]
    got = Counter([(await desk.conversation(r.conversation_id)).assignee_id for r in results])
    assert got == {big: 6, small: 2}
    overflow = await desk.customer_writes("One more", sender="late@example.com")
    assert (await desk.conversation(overflow.conversation_id)).assignee_id is None
    assert (await desk.agent_row(big)).open_count == 6
    assert (await desk.agent_row(small)).open_count == 2


async def test_skills_rule_waits_for_a_skilled_agent(make_desk: MakeDesk) -> None:
    rules = [{"name": "german", "regex": ["(?i)hallo"], "skills": ["german"]}]
    desk = await make_desk(**{"routing.rules": rules})
    await desk.agent("plain@example.com")
    german, _ = await desk.agent("hans@example.com", capacity=1, skills=("german", "billing"))
    first = await desk.customer_writes("Hallo, ich brauche Hilfe", sender="a@example.de")
    assert (await desk.conversation(first.conversation_id)).assignee_id == german
    second = await desk.customer_writes("Hallo nochmal", sender="b@example.de")
    # The only German speaker is full: the conversation waits rather than going to anyone.
    assert (await desk.conversation(second.conversation_id)).assignee_id is None
    english = await desk.customer_writes("Hello there", sender="c@example.com")
    assert (await desk.conversation(english.conversation_id)).assignee_id not in (None, german)


async def test_sticky_returns_customer_to_last_agent(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.assignment.default_strategy": "sticky"})
    first_agent, token = await desk.agent("first@example.com")
    other, _ = await desk.agent("other@example.com")
    opened = await desk.customer_writes("My first question", sender="loyal@example.com")
    served_by = (await desk.conversation(opened.conversation_id)).assignee_id
    assert served_by == first_agent
    await desk.customer_writes(
        "Someone else", sender="x@example.com"
    )  # least-loaded: goes to other
    resolve = await desk.client.patch(
        f"/api/v1/conversations/{opened.conversation_id}",
        json={"status": "resolved"},
        headers=auth(token),
    )
    assert resolve.status == 200
    again = await desk.customer_writes("Back with another question", sender="loyal@example.com")
    assert again.conversation_id != opened.conversation_id
    assert (await desk.conversation(again.conversation_id)).assignee_id == first_agent
    # When that agent is away, the fallback strategy picks someone else.
    await desk.client.put(
        f"/api/v1/routing/agents/{first_agent}", json={"presence": "away"}, headers=auth(token)
    )
    await desk.client.patch(
        f"/api/v1/conversations/{again.conversation_id}",
        json={"status": "resolved"},
        headers=auth(token),
    )
    third = await desk.customer_writes("And a third one", sender="loyal@example.com")
    assert (await desk.conversation(third.conversation_id)).assignee_id == other


async def test_queue_is_served_oldest_first_when_someone_is_free(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    agent_id, token = await desk.agent("solo@example.com", capacity=1)
    first = await desk.customer_writes("first", sender="one@example.com")
    desk.clock.advance(timedelta(minutes=1))
    second = await desk.customer_writes("second", sender="two@example.com")
    desk.clock.advance(timedelta(minutes=1))
    third = await desk.customer_writes("third", sender="three@example.com")
    assert (await desk.conversation(first.conversation_id)).assignee_id == agent_id
    for waiting in (second, third):
        assert (await desk.conversation(waiting.conversation_id)).assignee_id is None
    done = await desk.client.patch(
        f"/api/v1/conversations/{first.conversation_id}",
        json={"status": "resolved"},
        headers=auth(token),
    )
    assert done.status == 200
    await desk.run_jobs()
    assert (await desk.conversation(second.conversation_id)).assignee_id == agent_id
    assert (await desk.conversation(third.conversation_id)).assignee_id is None
    assert (await desk.agent_row(agent_id)).open_count == 1


async def test_going_online_takes_waiting_work_at_once(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    agent_id, token = await desk.agent("late@example.com", presence=Presence.OFFLINE)
    waiting = await desk.customer_writes("anyone there?")
    assert (await desk.conversation(waiting.conversation_id)).assignee_id is None
    response = await desk.client.put(
        f"/api/v1/routing/agents/{agent_id}", json={"presence": "online"}, headers=auth(token)
    )
    assert response.status == 200
    assert (await response.json())["open_count"] == 1
    assert (await desk.conversation(waiting.conversation_id)).assignee_id == agent_id


async def test_offline_assignee_loses_open_conversations(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    leaving, token = await desk.agent("leaving@example.com")
    opened = await desk.customer_writes("help")
    assert (await desk.conversation(opened.conversation_id)).assignee_id == leaving
    staying, _ = await desk.agent("staying@example.com")
    response = await desk.client.put(
        f"/api/v1/routing/agents/{leaving}", json={"presence": "offline"}, headers=auth(token)
    )
    assert response.status == 200
    assert (await desk.conversation(opened.conversation_id)).assignee_id == staying
    assert (await desk.agent_row(leaving)).open_count == 0
    assert (await desk.agent_row(staying)).open_count == 1


async def test_silent_assignee_is_replaced_after_the_configured_time(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.assignment.reassign_after_minutes": 30})
    slow, _ = await desk.agent("slow@example.com")
    quick, quick_token = await desk.agent("quick@example.com")
    silent = await desk.customer_writes("first", sender="s1@example.com")
    answered = await desk.customer_writes("second", sender="s2@example.com")
    assert (await desk.conversation(silent.conversation_id)).assignee_id == slow
    assert (await desk.conversation(answered.conversation_id)).assignee_id == quick
    reply = await desk.client.post(
        f"/api/v1/conversations/{answered.conversation_id}/messages",
        json={"text": "On it."},
        headers=auth(quick_token),
    )
    assert reply.status == 201
    desk.clock.advance(timedelta(minutes=29))
    await desk.run_jobs()
    assert (await desk.conversation(silent.conversation_id)).assignee_id == slow
    desk.clock.advance(timedelta(minutes=2))
    await desk.run_jobs()
    assert (await desk.conversation(silent.conversation_id)).assignee_id == quick
    assert (await desk.conversation(answered.conversation_id)).assignee_id == quick


async def test_concurrent_messages_never_overrun_capacity(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.assignment.default_strategy": "least_loaded"})
    agents = [(await desk.agent(f"cap{i}@example.com", capacity=3))[0] for i in range(10)]
    supervisor, _ = await desk.agent("boss@example.com", role=Role.SUPERVISOR, capacity=0)
    # A second hub process on the same database, ingesting at the same time.
    other = await make_desk(clock=desk.clock)
    results = await asyncio.gather(
        *(
            (other if i % 2 else desk).customer_writes("help", sender=f"p{i}@example.com")
            for i in range(48)
        )
    )
    assert len({r.conversation_id for r in results}) == 48
    async with desk.hub.db.reader() as session:
        rows = (await session.scalars(select(Agent).where(Agent.id.in_(agents)))).all()
        assigned = Counter(
            (
                await session.scalars(
                    select(Conversation.assignee_id).where(
                        Conversation.status == ConversationStatus.OPEN
                    )
                )
            ).all()
        )
    for agent in rows:
        assert agent.open_count <= agent.capacity
        assert agent.open_count == assigned[agent.id]
    assert sum(assigned[a] for a in agents) == 30
    assert assigned[None] == 18
    assert supervisor not in assigned


async def test_one_batch_of_new_conversations_respects_capacity_and_takes_turns(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(memory=("chat",), **{"routing.default_team": "support"})
    writer = desk.memory["chat"]
    big, _ = await desk.agent("big-batch@example.com", capacity=3)
    small, _ = await desk.agent("small-batch@example.com", capacity=1)
    results = await desk.ingest(
        *(writer.message("Hello", sender=f"batch{i}@example.com") for i in range(6))
    )
    got = [(await desk.conversation(r.conversation_id)).assignee_id for r in results]
    assert got[:2] == [big, small]  # round robin: each in turn while both have room
    assert Counter(got) == {big: 3, small: 1, None: 2}
    assert (await desk.agent_row(big)).open_count == 3
    assert (await desk.agent_row(small)).open_count == 1
