"""Two hub processes on one database: the visitor's socket is held by one, the agent replies
through the other (whose outbox may deliver it). The reply reaches the socket through the
shared event log, is recorded as pushed, and is marked sent exactly once."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db.models import Role
from hub.db.widget_models import WidgetDelivery
from tests.channels.web.widget_client import Visitor
from tests.hub.web.test_widget_socket import WS, reply, wait_state
from tests.support.desk import MakeDesk
from tests.support.smtp import SmtpSink


async def test_a_reply_queued_in_another_process_reaches_the_socket(
    make_desk: MakeDesk, smtp_sink: SmtpSink
) -> None:
    holder = await make_desk(**{"channels.chat.offline_grace_seconds": 0})
    other = await make_desk(settings=holder.settings)
    _, token = await other.agent("sam@example.com", role=Role.SUPERVISOR)

    visitor = Visitor(holder.client, WS)
    await visitor.connect()
    ack = await visitor.message("Anyone there?", "c-1")
    for n in range(3):
        sent = await reply(other, token, ack["conversation_id"], f"Yes, reply {n}.")
        assert (await visitor.agent_text(f"Yes, reply {n}."))["id"] == sent["id"]
        delivered = await wait_state(other, sent["id"], "sent")
        assert delivered.external_id == f"widget:{sent['id']}"
    async with other.hub.db.reader() as session:
        records = await session.scalar(select(func.count()).select_from(WidgetDelivery))
    assert records == 3
    assert smtp_sink.received == []
    await visitor.close()
