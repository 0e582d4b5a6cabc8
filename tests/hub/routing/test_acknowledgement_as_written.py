"""A new conversation's acknowledgement leaves as the ingest transaction wrote it: the message
and its outbox row go in with the ingest's own flush (no flush of their own), the outbox hands
the mail channel the message it was leased at the commit without reading it back, and the
customer gets what a read of the stored message would have given."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.inbox_models import Event
from tests.support.desk import MakeDesk
from tests.support.reads import as_stored, message_reads


async def test_an_acknowledgement_goes_out_as_written_and_as_stored(make_desk: MakeDesk) -> None:
    desk = await make_desk()  # the outbox runs

    with message_reads(desk) as reads:
        opened = await desk.customer_writes("My parcel never came", sender="amy@example.com")
        [acknowledgement] = await desk.wait_sent(1, channel="mail")

    assert acknowledgement.recipient.address == "amy@example.com"
    assert f"#{opened.ticket_number}" in acknowledgement.subject + acknowledgement.text
    assert acknowledgement.conversation_id == opened.conversation_id
    assert reads == [], "the acknowledgement was read back before it was sent"
    assert await as_stored(desk, acknowledgement) == acknowledgement
    async with desk.hub.db.reader() as session:  # what webhooks hear of it
        heard = await session.scalars(select(Event).where(Event.kind == "automated_message"))
        assert [e.payload["message_id"] for e in heard] == [acknowledgement.message_id]
