"""Searching the inbox by customer: names, companies and addresses are found through the
full-text indexes, and stay in step when a profile is edited. The search page ranks messages
with their words marked; the last word is a prefix (on SQLite, until the whole words fill the
window)."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, text

from hub.agent.search import CANDIDATES, RECENT
from hub.crm.edits import CustomerEdit, apply_edit
from hub.db.models import Customer, Direction, Message, Role
from hub.inbound.results import IngestResult
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.hub.web.ui.test_inbox import row_ids
from tests.support.desk import Desk


async def test_a_renamed_customer_is_found_under_the_new_name_only(
    desk: Desk, ui_agent: UiFactory
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    sent = await inbound(desk, "Hello there", email="ann@mill.example", name="Ann Smith")
    other = await inbound(desk, "Hi", email="bo@elsewhere.example", name="Bo Jones")
    async with desk.hub.db.writer() as session:
        customer = await session.get(Customer, sent.customer_id)
        assert customer is not None
        await apply_edit(
            session,
            customer,
            CustomerEdit(name="Annabel Quixote", company="Windmill Works"),
            agent_id=None,
            source="edit",
            now=desk.hub.clock.now(),
        )
        await session.commit()

    assert row_ids(await boss.page("/ui/inbox?q=quixote")) == [sent.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=windmill+wo")) == [sent.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=zebra")) == []
    # Addresses: a domain, a mailbox name.
    assert row_ids(await boss.page("/ui/inbox?q=mill.example")) == [sent.conversation_id]
    assert row_ids(await boss.page("/ui/inbox?q=bo")) == [other.conversation_id]
    # A ticket number.
    assert row_ids(await boss.page("/ui/inbox?q=%23999999")) == []


async def test_the_search_page_shows_ranked_snippets_with_the_words_marked(
    desk: Desk, ui_agent: UiFactory
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    hit = await inbound(
        desk, "My <b>printer</b> shows error E42 again", email="ann@mill.example", name="Ann"
    )
    await inbound(desk, "Something else entirely", email="bo@x.example", name="Bo")

    page = await boss.page("/ui/search?q=printer+e42")
    assert f'href="/ui/conversations/{hit.conversation_id}#m' in page
    assert "<mark>printer</mark>" in page and "<mark>E42</mark>" in page
    assert "&lt;b&gt;" in page and "<b>printer" not in page  # the customer's text stays text
    assert "Something else" not in page

    nothing = await boss.page("/ui/search?q=zebra")
    assert "Nothing found" in nothing
    bad = await boss.get("/ui/search?q=printer&since=yesterday")
    assert bad.status == 400
    assert "since: must be a date (YYYY-MM-DD)" in await bad.text()


async def parcel_updates(desk: Desk, sent: IngestResult, count: int) -> None:
    """``count`` more messages from the customer in ``sent``'s conversation, all with "parcel"."""
    rows = [
        {
            "conversation_id": sent.conversation_id,
            "customer_id": sent.customer_id,
            "direction": Direction.INBOUND,
            "channel": "mail",
            "text": f"parcel update number {n}",
            "created_at": desk.hub.clock.now(),
        }
        for n in range(count)
    ]
    async with desk.hub.db.writer() as session:
        for start in range(0, count, 5000):
            await session.execute(insert(Message), rows[start : start + 5000])
        await session.commit()


async def test_a_word_in_a_thousand_messages_is_searched_whole_a_rare_one_as_a_prefix(
    desk: Desk, ui_agent: UiFactory
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    busy = await inbound(desk, "Where is my parcel?", email="ann@mill.example", name="Ann")
    await parcel_updates(desk, busy, CANDIDATES)  # a long history: the word in every message
    longer = await inbound(desk, "My parcels are late", email="bo@x.example", name="Bo")

    page = await boss.page("/ui/search?q=parcel")
    if desk.db.is_sqlite:
        # The whole word fills the window: the newest message with a longer word is not in it.
        assert row_ids(await boss.page("/ui/inbox?q=parcel")) == [busy.conversation_id]
        assert "<mark>parcel</mark>" in page and "parcels" not in page
    else:  # PostgreSQL's index answers a prefix as cheaply as the word: it stays one
        assert set(row_ids(await boss.page("/ui/inbox?q=parcel"))) == {
            busy.conversation_id,
            longer.conversation_id,
        }
        assert "<mark>parcel</mark>" in page
    # A rare beginning of a word is still a prefix (search as you type).
    assert set(row_ids(await boss.page("/ui/inbox?q=parc"))) == {
        busy.conversation_id,
        longer.conversation_id,
    }
    assert "<mark>parcels</mark>" in await boss.page("/ui/search?q=late+parc")


async def test_a_word_only_in_old_history_is_found_beneath_a_busy_recent_stretch(
    desk: Desk, ui_agent: UiFactory
) -> None:
    """PostgreSQL reads the newest RECENT messages first and reaches older ones through the
    index only when those hold too few matches; both stores find the same."""
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    old = await inbound(desk, "My invoice from March is wrong", email="ann@mill.example")
    busy = await inbound(desk, "Where is my parcel?", email="bo@x.example")
    await parcel_updates(desk, busy, RECENT)
    new = await inbound(desk, "A question about my invoice", email="cy@z.example")

    assert set(row_ids(await boss.page("/ui/inbox?q=invoice"))) == {
        old.conversation_id,
        new.conversation_id,
    }
    page = await boss.page("/ui/search?q=invoice")
    assert page.index("A question about my") < page.index("My <mark>invoice</mark> from March")
    assert row_ids(await boss.page("/ui/inbox?q=march")) == [old.conversation_id]
    assert "<mark>March</mark>" in await boss.page("/ui/search?q=march")
    assert "Nothing found" in await boss.page("/ui/search?q=zebra")


async def test_on_postgresql_a_message_is_indexed_as_it_is_stored_with_nothing_left_pending(
    desk: Desk, ui_agent: UiFactory
) -> None:
    """Migration 0044: no pending list that a later message would have to merge into the
    index, stalling the ingest writer while it does."""
    if not desk.hub.db.url.startswith("postgresql"):
        pytest.skip("the GIN index and its pending list are PostgreSQL's; SQLite keeps FTS5")
    boss = await ui_agent("boss@example.com", role=Role.ADMIN, teams=())
    hit = await inbound(desk, "The walnut desk never arrived", email="ann@mill.example", name="Ann")
    page = await boss.page("/ui/search?q=walnut")
    assert f'href="/ui/conversations/{hit.conversation_id}#m' in page
    async with desk.hub.db.reader() as session:
        options = await session.scalar(
            text("SELECT reloptions FROM pg_class WHERE relname = 'ix_messages_search_vector'")
        )
    assert options == ["fastupdate=off"]
