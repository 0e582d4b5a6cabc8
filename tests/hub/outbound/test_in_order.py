"""An agent answers twice in quick succession while the channel is slow with the first answer:
the customer still gets them in the order they were written, and another customer's answer is
not held up behind them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from channels.base import DeliveryResult, OutboundMessage
from channels.memory.adapter import MemoryChannel
from hub.db.models import Role
from hub.platform.clock import ManualClock
from tests.support.desk import MakeDesk, auth


class SlowFirst(MemoryChannel):
    """A provider that takes a while with any message saying SLOW."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.finished: list[str] = []

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        if "SLOW" in message.text:
            await asyncio.sleep(0.5)
        result = await super().send(message)
        self.finished.append(message.text)
        return result


async def test_two_quick_answers_reach_the_customer_in_the_order_written(
    make_desk: MakeDesk,
) -> None:
    api = SlowFirst("api")
    desk = await make_desk(
        ManualClock(datetime.now(UTC).replace(microsecond=0)),
        memory={"api": api},
        workers=False,
        **{"followups.rules": [], "sla_policies": []},
    )
    _, token = await desk.agent("ann@example.com", role=Role.ADMIN)
    first = (
        await desk.customer_writes("Where is my parcel?", sender="amy@example.com")
    ).conversation_id
    other = (await desk.customer_writes("Invoice please", sender="bob@example.com")).conversation_id
    while await desk.hub.dispatcher.run_once():  # any acknowledgements out of the way
        pass
    api.sent.clear()
    api.finished.clear()
    for conversation_id, text in (
        (first, "SLOW: let me check that for you."),
        (first, "It left the depot this morning."),
        (other, "Here is your invoice."),
    ):
        response = await desk.client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            json={"text": text},
            headers=auth(token),
        )
        assert response.status == 201, await response.text()
    while await desk.hub.dispatcher.run_once():
        pass
    amy = [t for t in api.finished if t != "Here is your invoice."]
    assert amy == ["SLOW: let me check that for you.", "It left the depot this morning."]
    # Bob's answer did not wait for Amy's slow one.
    assert api.finished.index("Here is your invoice.") < api.finished.index(amy[0])
