"""Running the hub under an orchestrator: ``GET /metrics`` in the Prometheus text format with
this process's figures (messages ingested, ingest latency, deliveries and failures, outbox
backlog, the oldest due job, SLA breaches, open live connections), readable only with the
configured token or from an allowed address and absent when neither is configured;
``/healthz`` says the process is up, ``/readyz`` whether the database answers; JSON logs."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.db.models import Role
from hub.platform.clock import ManualClock
from hub.platform.logs import JsonFormatter
from tests.conftest import make_settings
from tests.hub.web.ui.conftest import PASSWORD, inbound, sign_in
from tests.support.desk import AiohttpClient, Desk, MakeDesk, auth, build_app

TOKEN = "scrape-token-0123456789"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def scrape(desk: Desk, token: str | None = TOKEN) -> dict[tuple[str, tuple[Any, ...]], float]:
    headers = auth(token) if token else {}
    response = await desk.client.get("/metrics", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(await response.text()):
        for sample in family.samples:
            labels = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "process"))
            assert sample.labels["process"] == desk.hub.metrics.process
            samples[(sample.name, labels)] = sample.value
    return samples


async def test_metrics_count_ingest_deliveries_backlog_and_breaches(make_desk: MakeDesk) -> None:
    desk = await make_desk(
        ManualClock(T0), **{"operations.metrics_token": TOKEN, "operations.process": "web-1"}
    )
    assert desk.hub.metrics.process == "web-1"
    before = await scrape(desk)
    assert before[("relaydesk_live_connections", (("kind", "agent"),))] == 0
    assert ("relaydesk_messages_ingested_total", (("channel", "mail"),)) not in before

    await inbound(desk, "The site is down", email="a@customer.example")
    await inbound(desk, "Hello there", email="b@customer.example")
    await inbound(desk, "Hi from the form", email="c@customer.example", channel="contact")
    assert desk.smtp is not None
    await desk.smtp.wait_for(3)  # the acknowledgements went out by mail
    after = await scrape(desk)
    assert after[("relaydesk_messages_ingested_total", (("channel", "mail"),))] == 2
    assert after[("relaydesk_messages_ingested_total", (("channel", "contact"),))] == 1
    assert after[("relaydesk_ingest_latency_seconds_count", ())] == 3
    assert after[("relaydesk_ingest_latency_seconds_bucket", (("le", "+Inf"),))] == 3
    assert after[("relaydesk_ingest_latency_seconds_sum", ())] > 0
    for _ in range(50):  # the last delivery is counted once its outcome is written
        after = await scrape(desk)
        if after.get(("relaydesk_deliveries_total", (("channel", "mail"),))) == 3:
            break
        await desk.smtp.wait_for(3)
    assert after[("relaydesk_deliveries_total", (("channel", "mail"),))] == 3
    assert after[("relaydesk_oldest_queued_job_age_seconds", (("queue", "outbox"),))] == 0
    assert after[("relaydesk_sla_breaches_total", (("metric", "first_response"),))] == 0

    desk.clock.advance(timedelta(minutes=16))  # the urgent one's first response was due 09:15
    await desk.run_jobs()
    later = await scrape(desk)
    assert later[("relaydesk_sla_breaches_total", (("metric", "first_response"),))] == 1


async def test_failures_backlog_and_live_connections(make_desk: MakeDesk) -> None:
    desk = await make_desk(
        ManualClock(T0),
        workers=False,  # the test runs the outbox itself
        **{
            "operations.metrics_token": TOKEN,
            "channels.mail.smtp_port": 9,  # nothing listens: every send fails
            "outbox.max_attempts": 2,
        },
    )
    await inbound(desk, "Hello there", email="b@customer.example")
    oldest = ("relaydesk_oldest_queued_job_age_seconds", (("queue", "outbox"),))
    backlog = ("relaydesk_outbox_backlog", (("channel", "mail"),))
    samples = await scrape(desk)
    assert samples[backlog] == 1 and samples[oldest] == 0
    desk.clock.advance(timedelta(minutes=2))
    assert (await scrape(desk))[oldest] == 120  # the acknowledgement was due at 09:00

    assert await desk.hub.dispatcher.run_once() == 1  # refused: retried later
    samples = await scrape(desk)
    retried = ("relaydesk_delivery_failures_total", (("channel", "mail"), ("final", "false")))
    given_up = ("relaydesk_delivery_failures_total", (("channel", "mail"), ("final", "true")))
    assert samples[retried] == 1 and given_up not in samples
    assert samples[backlog] == 1 and samples[oldest] == 0  # not due again yet
    desk.clock.advance(timedelta(hours=1))
    assert await desk.hub.dispatcher.run_once() == 1  # the second and last attempt
    samples = await scrape(desk)
    assert samples[retried] == 1 and samples[given_up] == 1
    assert backlog not in samples and samples[oldest] == 0
    assert ("relaydesk_deliveries_total", (("channel", "mail"),)) not in samples

    await desk.agent("sue@example.com", role=Role.AGENT, password=PASSWORD)
    async with aiohttp.ClientSession(
        base_url=str(desk.client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    ) as http:
        assert (await sign_in(http, "sue@example.com", PASSWORD)).status == 303
        stream = await http.get("/ui/events", headers={"Accept": "text/event-stream"})
        await stream.content.readline()
        assert (await scrape(desk))[("relaydesk_live_connections", (("kind", "agent"),))] == 1
        stream.close()
        for _ in range(100):
            if (await scrape(desk))[("relaydesk_live_connections", (("kind", "agent"),))] == 0:
                break
            await asyncio.sleep(0.01)
    assert (await scrape(desk))[("relaydesk_live_connections", (("kind", "agent"),))] == 0

    socket = await desk.client.ws_connect("/widget/chat/ws")  # a chat widget visitor
    assert (await scrape(desk))[("relaydesk_live_connections", (("kind", "widget"),))] == 1
    await socket.close()
    for _ in range(100):
        if (await scrape(desk))[("relaydesk_live_connections", (("kind", "widget"),))] == 0:
            break
        await asyncio.sleep(0.01)
    assert (await scrape(desk))[("relaydesk_live_connections", (("kind", "widget"),))] == 0


async def test_metrics_need_the_token_or_an_allowed_address(make_desk: MakeDesk) -> None:
    closed = await make_desk()
    assert (await closed.client.get("/metrics")).status == 404  # nothing configured: none

    desk = await make_desk(**{"operations.metrics_token": TOKEN})
    response = await desk.client.get("/metrics")
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "unauthorized"
    assert (await desk.client.get("/metrics", headers=auth("x" * 22))).status == 401
    assert (await desk.client.get("/metrics", headers={"Authorization": TOKEN})).status == 401
    assert (await desk.client.get("/metrics", headers=auth(TOKEN))).status == 200

    elsewhere = await make_desk(**{"operations.metrics_allow": ["10.0.0.0/8"]})
    response = await elsewhere.client.get("/metrics")
    assert response.status == 403
    assert "metrics_allow" in (await response.json())["error"]["message"]
    local = await make_desk(**{"operations.metrics_allow": ["127.0.0.1", "::1"]})
    assert (await local.client.get("/metrics")).status == 200

    both = await make_desk(
        **{"operations.metrics_allow": ["127.0.0.0/8"], "operations.metrics_token": TOKEN}
    )
    assert (await both.client.get("/metrics")).status == 401
    assert (await both.client.get("/metrics", headers=auth(TOKEN))).status == 200


async def test_readyz_fails_when_the_database_cannot_be_reached(
    aiohttp_client: AiohttpClient,
) -> None:
    settings = make_settings("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere")
    client = await aiohttp_client(build_app(settings, workers=False))
    response = await client.get("/healthz")
    assert response.status == 200 and await response.json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status == 503
    assert await response.json() == {
        "status": "unavailable",
        "checks": {"database": "the database cannot be reached"},
    }


async def test_readyz_answers_when_the_database_does(desk: Desk) -> None:
    response = await desk.client.get("/readyz")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "checks": {"database": "ok"}}


def test_json_logs_are_one_object_per_line() -> None:
    formatter = JsonFormatter("web-1")
    record = logging.LogRecord(
        "hub.outbound", logging.WARNING, __file__, 1, "sent %d of %d", (2, 3), None
    )
    record.channel = "mail"
    line = formatter.format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "warning" and entry["logger"] == "hub.outbound"
    assert entry["message"] == "sent 2 of 3"
    assert entry["process"] == "web-1" and entry["channel"] == "mail"
    assert datetime.fromisoformat(entry["time"]).tzinfo is not None
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(formatter.format(record))
    assert "ValueError: boom" in entry["exception"]


@pytest.mark.parametrize("key", ["operations.metrics_allow"])
def test_a_wrong_address_in_the_settings_is_named(key: str) -> None:
    from hub.config.settings import ConfigError

    with pytest.raises(ConfigError, match=r"operations\.metrics_allow: .*'not-an-address'"):
        make_settings("sqlite+aiosqlite:///x.db", **{key: ["not-an-address"]})
