"""Two hub processes on one database: the visitor's socket is held by one, the agent replies
through the other (whose outbox may deliver it). The reply reaches the socket through the
shared event log, is recorded as pushed, and is marked sent exactly once."""

from __future__ import annotations

from sqlalchemy import func, select

from hub.db.models import Role
from hub.db.widget_models import WidgetDelivery
from tests.channels.web.widget_client import Visitor
from tests.conftest import AiohttpClient, make_settings
from tests.hub.web.test_widget_socket import WS, reply, wait_state
from tests.support.desk import Desk, build_app
from tests.support.smtp import SmtpSink


async def test_a_reply_queued_in_another_process_reaches_the_socket(
    database_url: str, smtp_sink: SmtpSink, aiohttp_client: AiohttpClient
) -> None:
    settings = make_settings(
        database_url,
        **{"channels.mail.smtp_port": smtp_sink.port, "channels.chat.offline_grace_seconds": 0},
    )
    first = await aiohttp_client(build_app(settings))
    second = await aiohttp_client(build_app(settings))
    holder = Desk(first)
    other = Desk(second)
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
