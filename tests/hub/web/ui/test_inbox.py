"""The inbox list: views by role, filters, full-text search, sorting, keyset pages, bulk
actions, and nothing from a team the agent does not belong to."""

from __future__ import annotations

import re

from sqlalchemy import select

from hub.db.inbox_models import ConversationTag
from hub.db.models import Agent, Conversation, Message, Presence, Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk

ROW = re.compile(r'<tr class="conv[^"]*" data-id="(\d+)"')


def row_ids(page: str) -> list[int]:
    return [int(found) for found in ROW.findall(page)]


async def test_views_follow_role_and_team(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com", teams=("support",), presence=Presence.AWAY)
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR, teams=())
    support = await inbound(desk, "My printer jams", subject="Printer")
    billing = await inbound(desk, "Wrong invoice", subject="Invoice", email="tom@example.com")

    assert row_ids(await sue.page("/ui/inbox?view=teams")) == [support.conversation_id]
    assert row_ids(await sue.page("/ui/inbox?view=unassigned")) == [support.conversation_id]
    assert row_ids(await sue.page("/ui/inbox?view=mine")) == []
    assert row_ids(await sue.page("/ui/inbox?view=all")) == [support.conversation_id]
    everything = row_ids(await boss.page("/ui/inbox"))
    assert sorted(everything) == sorted([support.conversation_id, billing.conversation_id])

    page = await sue.page("/ui/inbox?view=teams")
    assert "Jane Cooper" in page and "Printer" in page and "Tom" not in page


async def test_an_agent_in_two_teams_sees_both_teams_conversations(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com", teams=("support", "billing"))
    support = await inbound(desk, "My printer jams", subject="Printer")
    billing = await inbound(desk, "Wrong invoice", subject="Invoice", email="tom@example.com")

    both = sorted([support.conversation_id, billing.conversation_id])
    assert sorted(row_ids(await sue.page("/ui/inbox?view=teams"))) == both
    page = await sue.page(f"/ui/conversations/{billing.conversation_id}")
    assert "Wrong invoice" in page


async def test_filters_and_search(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    printer = await inbound(desk, "The printer shows error E42", subject="Printer")
    outage = await inbound(
        desk,
        "Everything is down since noon",
        subject="Outage",
        email="ops@acme.example",
        name="Olga Petrova",
        channel="contact",
    )
    refund = await inbound(
        desk,
        "Please refund my order",
        subject="Refund",
        email="sam@shop.example",
        name="Sam Smith",
    )
    async with desk.hub.db.writer() as session:
        session.add(ConversationTag(conversation_id=refund.conversation_id, tag="vip"))
        await session.commit()

    assert row_ids(await boss.page("/ui/inbox?priority=urgent")) == [outage.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?channel=contact")) == [outage.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?tag=vip")) == [refund.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=E42")) == [printer.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=printe")) == [printer.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=olga")) == [outage.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=shop.example")) == [refund.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?status=resolved")) == []
    assert row_ids(await boss.page("/ui/inbox?sla=breached")) == []
    assert row_ids(await boss.page("/ui/inbox?sla=on_track")) == [printer.conversation_id]
    due_soon = row_ids(await boss.page("/ui/inbox?sla=due_soon"))  # high and urgent: < 1 h
    assert sorted(due_soon) == sorted([outage.conversation_id, refund.conversation_id])
    by_sla = row_ids(await boss.page("/ui/inbox?sort=sla"))
    assert by_sla[0] == outage.conversation_id  # urgent: 15 minutes to first response
    by_wait = row_ids(await boss.page("/ui/inbox?sort=waiting"))
    assert by_wait == [printer.conversation_id, outage.conversation_id, refund.conversation_id]
    recent = row_ids(await boss.page("/ui/inbox?sort=recent"))
    assert recent == list(reversed(by_wait))

    bad = await boss.get("/ui/inbox?status=lost")
    assert bad.status == 400
    assert "status" in await bad.text()
    forged = await boss.get("/ui/inbox?after=not-a-cursor")
    assert forged.status == 400


async def test_keyset_pages_cover_everything_once(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    created = [
        (await inbound(desk, f"question {n}", email=f"c{n}@example.com")).conversation_id
        for n in range(57)
    ]
    for sort in ("waiting", "recent", "sla"):
        seen: list[int] = []
        url = f"/ui/inbox?sort={sort}"
        while url:
            page = await boss.page(url)
            seen += row_ids(page)
            found = re.search(r'href="(/ui/inbox\?[^"]*after=[^"]+)" data-next', page)
            url = found.group(1).replace("&amp;", "&") if found else ""
        assert sorted(seen) == sorted(created), sort
        assert len(seen) == len(set(seen))


async def test_bulk_assign_status_and_tag(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.SUPERVISOR, teams=("support",))
    sue = await ui_agent("sue@example.com", presence=Presence.AWAY)
    first = (await inbound(desk, "one", email="a@example.com")).conversation_id
    second = (await inbound(desk, "two", email="b@example.com")).conversation_id
    ids = [("ids", str(first)), ("ids", str(second))]

    assigned = await boss.post(
        "/ui/inbox/bulk", [*ids, ("action", "assign"), ("value", str(sue.agent_id))]
    )
    assert assigned.status == 303
    tagged = await boss.post("/ui/inbox/bulk", [*ids, ("action", "tag"), ("value", "Billing, vip")])
    assert tagged.status == 303
    assert sorted(row_ids(await sue.page("/ui/inbox?view=mine&tag=vip"))) == sorted([first, second])
    async with desk.hub.db.reader() as session:
        agent = await session.get(Agent, sue.agent_id)
        assert agent is not None and agent.open_count == 2

    resolved = await boss.post(
        "/ui/inbox/bulk", [*ids, ("action", "status"), ("value", "resolved")]
    )
    assert resolved.status == 303
    async with desk.hub.db.reader() as session:
        statuses = set((await session.scalars(select(Conversation.status))).all())
        assert statuses == {"resolved"}
        agent = await session.get(Agent, sue.agent_id)
        assert agent is not None and agent.open_count == 0


async def test_bulk_cannot_reach_another_teams_conversation(
    desk: Desk, ui_agent: UiFactory
) -> None:
    sue = await ui_agent("sue@example.com", teams=("support",))
    billing = (await inbound(desk, "invoice is wrong", email="t@example.com")).conversation_id
    response = await sue.post(
        "/ui/inbox/bulk", [("ids", str(billing)), ("action", "status"), ("value", "resolved")]
    )
    assert response.status == 404
    async with desk.hub.db.reader() as session:
        conversation = await session.get(Conversation, billing)
        assert conversation is not None and conversation.status == "open"
    other = await sue.post(
        "/ui/inbox/bulk", [("ids", str(billing)), ("action", "assign"), ("value", "me")]
    )
    assert other.status == 404


async def test_sla_sort_and_filter_follow_priority_and_pause(
    desk: Desk, ui_agent: UiFactory
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    first = (await inbound(desk, "My printer jams", subject="Printer")).conversation_id
    second = (
        await inbound(desk, "Wrong size", subject="Shoes", email="tom@example.com")
    ).conversation_id
    assert row_ids(await boss.page("/ui/inbox?sort=sla")) == [first, second]  # both normal
    assert row_ids(await boss.page("/ui/inbox?sla=due_soon")) == []

    base = f"/ui/conversations/{second}"
    assert (await boss.post(f"{base}/priority", {"priority": "urgent"})).status == 303
    assert row_ids(await boss.page("/ui/inbox?sort=sla")) == [second, first]
    assert row_ids(await boss.page("/ui/inbox?sla=due_soon")) == [second]
    page = await boss.page(base)
    assert "Priority changed to urgent; next SLA deadline" in page

    # Waiting on the customer pauses the clock: nothing is due, it sorts after due ones.
    assert (await boss.post(f"{base}/status", {"status": "pending"})).status == 303
    assert row_ids(await boss.page("/ui/inbox?sla=due_soon")) == []
    assert row_ids(await boss.page("/ui/inbox?status=all&sort=sla")) == [first, second]
    async with desk.hub.db.reader() as session:
        paused = await session.get(Conversation, second)
        assert paused is not None and paused.sla_due_at is None


PREVIEW = re.compile(r'<div class="preview">(.*?)</div>', re.DOTALL)


def preview_of(page: str, conversation_id: int) -> str:
    start = page.index(f'data-id="{conversation_id}"')
    found = PREVIEW.search(page, start)
    assert found is not None
    return found.group(1)


async def test_the_preview_is_the_customers_message_not_our_acknowledgement(
    desk: Desk, ui_agent: UiFactory
) -> None:
    """Issue #15 defect 6: the customer writes, the hub's acknowledgement goes out; the row
    shows what the customer wrote, still waiting for us. Once Sue answers, the row says so and
    keeps the customer's words; when the customer writes again, that is the preview."""
    sue = await ui_agent("sue@example.com", teams=("support",))
    written = await inbound(desk, "My printer jams on every page", subject="Printer")
    conversation = written.conversation_id
    await desk.smtp.wait_for(1)  # the automated acknowledgement went out
    async with desk.db.reader() as session:
        acknowledgement = (
            await session.scalars(
                select(Message).where(
                    Message.conversation_id == conversation, Message.automated.is_(True)
                )
            )
        ).one()
    assert acknowledgement.direction == "outbound"

    page = await sue.page("/ui/inbox?view=teams")
    assert preview_of(page, conversation) == "My printer jams on every page"
    assert "conv awaiting" in page

    posted = await sue.post(f"/ui/conversations/{conversation}/reply", {"text": "On our way"})
    assert posted.status == 303
    page = await sue.page("/ui/inbox?view=teams")
    shown = preview_of(page, conversation)
    assert "My printer jams on every page" in shown and "Replied" in shown
    assert "On our way" not in shown and "conv awaiting" not in page

    await inbound(desk, "Thanks, it works now", subject="Re: Printer")
    page = await sue.page("/ui/inbox?view=teams")
    assert preview_of(page, conversation) == "Thanks, it works now"
    assert "conv awaiting" in page


async def test_a_long_mail_shows_its_first_words_in_the_row(
    desk: Desk, ui_agent: UiFactory
) -> None:
    """A customer's mail that starts with blank lines and ends with 60 KB of quoted history:
    the row shows its first words, whitespace collapsed, cut at the preview's length."""
    sue = await ui_agent("sue@example.com", teams=("support",))
    words = "My order 4711 arrived without the charger, could you send one separately? " * 3
    quoted = "\n".join(
        f"> On Monday you wrote, line {n}: thanks for your order" for n in range(1200)
    )
    body = "\n" * 40 + " " * 900 + words + "\n\n" + quoted
    assert len(body) > 60_000
    written = await inbound(desk, body, subject="Charger")

    page = await sue.page("/ui/inbox?view=teams")
    assert preview_of(page, written.conversation_id) == " ".join(words.split())[:140]


COUNT = re.compile(r'data-view="(\w+)">\s*<span>[^<]*</span>\s*<span class="count">(\d+)</span>')


def side_counts(page: str) -> dict[str, int]:
    return {view: int(count) for view, count in COUNT.findall(page)}


async def test_side_views_count_what_each_view_lists(desk: Desk, ui_agent: UiFactory) -> None:
    """Bob (billing) sees how many open conversations are his, unassigned where he may look,
    and mention him: a conversation he is mentioned in twice counts once, another team's
    unassigned conversation and a resolved one not at all."""
    boss = await ui_agent(
        "boss@example.com",
        role=Role.SUPERVISOR,
        teams=("support", "billing"),
        presence=Presence.AWAY,
    )
    sue = await ui_agent("sue@example.com", teams=("support",), presence=Presence.AWAY)
    bob = await ui_agent("bob@example.com", teams=("billing",), presence=Presence.AWAY)
    invoices = [
        (await inbound(desk, f"invoice {n} is wrong", email=f"i{n}@example.com")).conversation_id
        for n in range(4)
    ]
    support = (await inbound(desk, "My printer jams", email="p@example.com")).conversation_id
    await inbound(desk, "The scanner too", email="s@example.com")  # support's, unassigned
    mine = [("ids", str(invoices[0])), ("ids", str(invoices[1]))]
    to_bob = ("value", str(bob.agent_id))
    assigned = await boss.post("/ui/inbox/bulk", [*mine, ("action", "assign"), to_bob])
    assert assigned.status == 303
    closed = await bob.post(
        "/ui/inbox/bulk", [("ids", str(invoices[3])), ("action", "status"), ("value", "resolved")]
    )
    assert closed.status == 303
    for note in ("@bob is this a refund?", "@bob still waiting"):
        response = await sue.post(f"/ui/conversations/{support}/note", {"text": note})
        assert response.status == 303

    counts = side_counts(await bob.page("/ui/inbox"))

    assert counts == {"mine": 2, "unassigned": 2, "mentions": 1}
    assert len(row_ids(await bob.page("/ui/inbox?view=unassigned"))) == 2
    assert row_ids(await bob.page("/ui/inbox?view=mentions")) == [support]
