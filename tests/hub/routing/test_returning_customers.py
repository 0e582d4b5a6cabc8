"""A rule for returning customers: a customer's next conversation is theirs as a returning
customer, whether the first was opened in an earlier batch or in the same batch that created
the customer; a first conversation never is."""

from __future__ import annotations

from dataclasses import replace

from hub.db.models import Customer, Identity
from tests.support.desk import MakeDesk
from tests.support.messages import inbound

RULES = [{"name": "welcome back", "customer": "returning", "priority": "high"}]


async def test_a_new_customers_second_conversation_in_the_same_batch_is_returning(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(**{"routing.rules": RULES})
    first, second = await desk.ingest(
        inbound("1", address="nova@example.com", thread_key="printer"),
        inbound("2", address="nova@example.com", thread_key="invoice"),
    )
    assert first.customer_id == second.customer_id
    assert first.conversation_id != second.conversation_id
    assert (await desk.conversation(first.conversation_id)).priority == "normal"
    assert (await desk.conversation(second.conversation_id)).priority == "high"

    [later] = await desk.ingest(inbound("3", address="nova@example.com", thread_key="refund"))
    assert (await desk.conversation(later.conversation_id)).priority == "high"


async def test_a_first_conversation_is_not_returning_even_beside_another_customers(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk(**{"routing.rules": RULES})
    [known] = await desk.ingest(inbound("1", address="old@example.com", thread_key="a"))
    fresh, again = await desk.ingest(
        inbound("2", address="fresh@example.com", thread_key="b"),
        inbound("3", address="old@example.com", thread_key="c"),
    )
    assert (await desk.conversation(known.conversation_id)).priority == "normal"
    assert (await desk.conversation(fresh.conversation_id)).priority == "normal"
    assert (await desk.conversation(again.conversation_id)).priority == "high"


async def test_known_customers_opening_at_once_are_returning_only_with_an_earlier_one(
    make_desk: MakeDesk,
) -> None:
    """Several known customers opening a conversation in one batch: each is returning when
    it has another conversation, not when the customer was known without one (an import)."""
    desk = await make_desk(**{"routing.rules": RULES})
    ann, bob = await desk.ingest(
        inbound("1", address="ann@example.com", name="Ann"),
        inbound("2", address="bob@example.com", name="Bob"),
    )
    now = desk.clock.now()
    async with desk.db.writer() as session:
        imported = Customer(name="Cy", name_key="cy", tags=[], attributes={}, created_at=now)
        session.add(imported)
        await session.flush()
        session.add(
            Identity(
                customer_id=imported.id, kind="email", address="cy@example.com", created_at=now
            )
        )
        await session.commit()

    # Cy's second message replies to a mail we never stored: it opens another conversation,
    # after the first three were written together, and that one is Cy's second.
    warranty = inbound("6", address="cy@example.com", thread_key="warranty")
    unknown_reply = replace(warranty, reply_to_ids=("<x@y>",))
    results = await desk.ingest(
        inbound("3", address="ann@example.com", name="Ann", thread_key="refund"),
        inbound("4", address="cy@example.com", name="Cy", thread_key="printer"),
        inbound("5", address="bob@example.com", name="Bob", thread_key="invoice"),
        unknown_reply,
    )

    customers = [ann.customer_id, imported.id, bob.customer_id, imported.id]
    assert [r.customer_id for r in results] == customers
    assert len({r.conversation_id for r in results}) == 4
    priorities = [(await desk.conversation(r.conversation_id)).priority for r in results]
    assert priorities == ["high", "normal", "high", "high"]
