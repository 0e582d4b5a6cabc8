"""A conversation nobody can take stays in the queue through every pass of the job runner
until someone is available, and then goes to them."""

from __future__ import annotations

from hub.db.models import Presence
from hub.routing.waiting_queue import waiting_for_free_agents
from tests.support.desk import Desk, MakeDesk


async def test_waiting_conversation_survives_passes_with_nobody_free(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    sam_id, _ = await desk.agent("sam@example.com", presence=Presence.OFFLINE)
    opened = await desk.customer_writes("My screen flickers")
    assert (await desk.conversation(opened.conversation_id)).assignee_id is None

    await desk.run_jobs()  # nobody is free: it must stay queued
    await desk.run_jobs()
    late_id, _ = await desk.agent("late@example.com")  # online now
    await desk.run_jobs()

    assert (await desk.conversation(opened.conversation_id)).assignee_id == late_id
    assert sam_id != late_id


async def two_teams_nobody_online(make_desk: MakeDesk) -> Desk:
    """Refunds go to billing, the rest to support; Sam (support) and Bo (billing) are offline."""
    rules = [{"name": "refunds", "keywords": ["refund"], "team": "billing"}]
    desk = await make_desk(**{"routing.rules": rules, "routing.default_team": "support"})
    await desk.agent("sam@example.com", presence=Presence.OFFLINE)
    await desk.agent("bo@example.com", teams=("billing",), presence=Presence.OFFLINE)
    return desk


async def backlog_then_a_refund(desk: Desk, backlog: int) -> int:
    """``backlog`` customers write to support, then one asks billing for a refund: the
    refund's conversation id."""
    memory = desk.memory["api"]
    waiting = [
        memory.message("My screen flickers", sender=f"c{n}@example.com", name=f"Customer {n}")
        for n in range(backlog)
    ]
    await desk.ingest(*waiting)
    refund = await desk.customer_writes("I want a refund", sender="late@example.com")
    return refund.conversation_id


async def test_a_free_agent_gets_their_teams_conversation_behind_a_long_queue_elsewhere(
    make_desk: MakeDesk,
) -> None:
    """Support has nobody online and a long queue (more than a pass reads at once); billing's
    newer conversation still goes to Bea, billing's agent, as soon as she is online."""
    desk = await two_teams_nobody_online(make_desk)
    refund = await backlog_then_a_refund(desk, 230)
    await desk.run_jobs()

    bea_id, _ = await desk.agent("bea@example.com", teams=("billing",))  # online now
    await desk.run_jobs()

    assert (await desk.conversation(refund)).assignee_id == bea_id
    assigned = [c.id for c in await desk.conversations() if c.assignee_id is not None]
    assert assigned == [refund]  # support's queue still waits for Sam


async def test_the_sweep_reads_the_queue_page_by_page_oldest_first(make_desk: MakeDesk) -> None:
    """Waiting conversations of a team with somebody free are found past any number of
    another team's, in the order they started waiting, however small the pages."""
    desk = await two_teams_nobody_online(make_desk)
    memory = desk.memory["api"]
    messages = [
        memory.message(
            "I want a refund" if n % 10 == 9 else "My screen flickers",
            sender=f"c{n}@example.com",
            name=f"Customer {n}",
        )
        for n in range(60)
    ]
    results = await desk.ingest(*messages)
    refunds = [r.conversation_id for n, r in enumerate(results) if n % 10 == 9]
    await desk.agent("bea@example.com", teams=("billing",))  # online: billing has somebody free

    async with desk.db.reader() as session:
        found = await waiting_for_free_agents(session, 4, page_size=7)

    assert [conversation.id for _routing, conversation in found] == refunds[:4]


async def test_a_pass_looks_only_so_far_down_a_queue_nobody_can_take(make_desk: MakeDesk) -> None:
    """A backlog where nobody is free costs a pass a bounded read: a free team's conversation
    further down than a pass looks waits for the backlog ahead of it to be taken, and is found
    once it is within reach."""
    desk = await two_teams_nobody_online(make_desk)
    refund = await backlog_then_a_refund(desk, 30)
    await desk.agent("bea@example.com", teams=("billing",))  # online: billing has somebody free

    async with desk.db.reader() as session:
        beyond = await waiting_for_free_agents(session, 10, page_size=7, scanned=21)
        within = await waiting_for_free_agents(session, 10, page_size=7, scanned=31)

    assert beyond == []
    assert [conversation.id for _routing, conversation in within] == [refund]
