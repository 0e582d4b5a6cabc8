"""Prometheus metrics of one hub process, on a registry of its own (never the library's global
one, so two hubs in one process, as in the tests, do not mix). The areas call small methods
(``ingested``, ``delivered``, ``stream_opened``); what the database knows (outbox backlog, the
oldest due job, SLA breaches) is read just before each scrape by ``refresh``. Every metric
carries the ``process`` label."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from hub.db.chat_models import ChatFileFetch
from hub.db.models import OutboxItem
from hub.db.queue_columns import QueuedWork
from hub.db.routing_models import Job, SlaEvent
from hub.platform.clock import aware
from hub.platform.database import Database

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LIVE_KINDS = ("agent", "widget")
QUEUES: dict[str, type[QueuedWork]] = {
    "outbox": OutboxItem,
    "jobs": Job,
    "chat_files": ChatFileFetch,
}


def default_process() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass(eq=False)
class _Snapshot(Collector):
    """What the database said at the last refresh, as metric families."""

    process: str
    backlog: dict[str, int] = field(default_factory=dict)
    oldest: dict[str, float] = field(default_factory=dict)
    breaches: dict[str, int] = field(default_factory=dict)

    def collect(self) -> Iterator[Metric]:
        backlog = GaugeMetricFamily(
            "relaydesk_outbox_backlog",
            "Outbound messages waiting to be sent, by channel",
            labels=["process", "channel"],
        )
        for channel, count in sorted(self.backlog.items()):
            backlog.add_metric([self.process, channel], count)
        oldest = GaugeMetricFamily(
            "relaydesk_oldest_queued_job_age_seconds",
            "How long the oldest due, unfinished item of each work queue has waited (0: none)",
            labels=["process", "queue"],
        )
        for queue in QUEUES:
            oldest.add_metric([self.process, queue], self.oldest.get(queue, 0.0))
        breaches = CounterMetricFamily(
            "relaydesk_sla_breaches",
            "SLA targets breached (recorded once each), by metric",
            labels=["process", "metric"],
        )
        for metric in ("first_response", "next_response", "resolution"):
            breaches.add_metric([self.process, metric], self.breaches.get(metric, 0))
        yield from (backlog, oldest, breaches)


class Metrics:
    def __init__(self, process: str = "") -> None:
        self.process = process or default_process()
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self._ingested = Counter(
            "relaydesk_messages_ingested",
            "Inbound messages stored, by channel (duplicates not counted)",
            ["process", "channel"],
            registry=registry,
        )
        self._latency = Histogram(
            "relaydesk_ingest_latency_seconds",
            "Time from a message's submission to its committed, acknowledged storage",
            ["process"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self._deliveries = Counter(
            "relaydesk_deliveries",
            "Outbound messages delivered, by channel",
            ["process", "channel"],
            registry=registry,
        )
        self._failures = Counter(
            "relaydesk_delivery_failures",
            "Failed delivery attempts by channel; final=true when the message was given up",
            ["process", "channel", "final"],
            registry=registry,
        )
        self._connections = Gauge(
            "relaydesk_live_connections",
            "Open live connections: agent pages' event streams, chat widget sockets",
            ["process", "kind"],
            registry=registry,
        )
        for kind in LIVE_KINDS:
            self._connections.labels(self.process, kind).set(0)
        self.snapshot = _Snapshot(self.process)
        registry.register(self.snapshot)

    def ingested(self, channel: str, seconds: float, stored: bool) -> None:
        self._latency.labels(self.process).observe(seconds)
        if stored:
            self._ingested.labels(self.process, channel).inc()

    def delivered(self, channel: str) -> None:
        self._deliveries.labels(self.process, channel).inc()

    def delivery_failed(self, channel: str, final: bool) -> None:
        self._failures.labels(self.process, channel, "true" if final else "false").inc()

    def stream_opened(self, kind: str = "agent") -> None:
        self._connections.labels(self.process, kind).inc()

    def stream_closed(self, kind: str = "agent") -> None:
        self._connections.labels(self.process, kind).dec()

    async def refresh(self, db: Database, now: datetime) -> None:
        """Read the database's side of the figures (before a scrape)."""
        async with db.reader() as session:
            backlog = await session.execute(
                select(OutboxItem.channel, func.count())
                .where(OutboxItem.state == "pending")
                .group_by(OutboxItem.channel)
            )
            self.snapshot.backlog = {str(channel): int(count) for channel, count in backlog}
            oldest: dict[str, float] = {}
            for name, table in QUEUES.items():
                due = await session.scalar(
                    select(func.min(table.next_attempt_at)).where(
                        table.state == "pending", table.next_attempt_at <= now
                    )
                )
                oldest[name] = max(0.0, (now - aware(due)).total_seconds()) if due else 0.0
            self.snapshot.oldest = oldest
            breaches = await session.execute(
                select(SlaEvent.metric, func.count())
                .where(SlaEvent.kind == "breach")
                .group_by(SlaEvent.metric)
            )
            self.snapshot.breaches = {str(metric): int(count) for metric, count in breaches}

    def render(self) -> bytes:
        return generate_latest(self.registry)
