"""On the conversation page the agent chooses which record of a duplicate customer survives:
the one with more history is preselected, either may be kept, and undo restores both."""

from __future__ import annotations

import re

from sqlalchemy import select

from hub.db.models import Customer, Identity
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk


async def test_agent_keeps_the_record_they_choose(desk: Desk, ui_agent: UiFactory) -> None:
    sue = await ui_agent("sue@example.com")
    old = await inbound(desk, "First contact", email="jane.cooper@acme.example", subject="One")
    await inbound(desk, "Another thing", email="jane.cooper@acme.example", subject="Two")
    new = await inbound(desk, "Hi from gmail", email="jane.cooper@gmail.example", subject="Three")
    base = f"/ui/conversations/{new.conversation_id}"
    page = await sue.page(base)
    # Jane's older record has more history (two messages): it is preselected to survive
    checked = re.findall(r'name="survivor" value="(\d+)" checked', page)
    assert checked == [str(old.customer_id)]
    assert "Jane Cooper (1 conversation)" in page

    merged = await sue.post(
        f"/ui/customers/{new.customer_id}/merge",
        {"other": str(old.customer_id), "survivor": str(new.customer_id), "back": base},
    )
    assert merged.status == 303
    async with desk.db.reader() as session:
        kept = await session.get(Customer, new.customer_id)
        gone = await session.get(Customer, old.customer_id)
        assert kept is not None and gone is not None
        assert kept.merged_into_id is None and gone.merged_into_id == new.customer_id
        moved = await session.scalar(
            select(Identity).where(Identity.address == "jane.cooper@acme.example")
        )
        assert moved is not None and moved.customer_id == new.customer_id
    page = await sue.page(base)
    assert "First contact" in page and "Another thing" in page
    undo = re.search(r'action="(/ui/merges/\d+/undo)"', page)
    assert undo is not None
    assert (await sue.post(undo.group(1), {"back": base})).status == 303
    async with desk.db.reader() as session:
        back = await session.get(Customer, old.customer_id)
        assert back is not None and back.merged_into_id is None
