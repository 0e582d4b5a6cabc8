"""A campaign's results, per campaign and per channel: recipients by state, skips by reason,
replies, unsubscribes, bounces; sends over time; whether it is finished and which counts add
up; a chart (server-rendered SVG, shown beside its table); the per-recipient CSV export.

Every count is one SQL aggregate (grouped by channel); only the CSV export reads rows, streamed
from the database in chunks, never all at once."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pygal
from pygal.style import Style
from sqlalchemy import ColumnElement, case, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import texts
from hub.campaigns.optout import mask
from hub.db.campaign_models import CampaignRecipient, RecipientState
from hub.db.models import Customer, Identity

Bucket = Literal["minute", "hour"]
_SCRIPT = re.compile(r"<script\b.*?</script>", re.DOTALL)
R = CampaignRecipient
# What a recipient's state is called on pages and in the export (the queue calls it pending).
STATE_NAMES = {RecipientState.QUEUED.value: "queued"}


@dataclass(frozen=True, slots=True)
class Counts:
    recipients: int = 0
    queued: int = 0
    sending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    unconfirmed: int = 0
    cancelled: int = 0
    replied: int = 0
    unsubscribed: int = 0
    bounced: int = 0
    skipped_by_reason: Mapping[str, int] = field(default_factory=dict)

    @property
    def accounted(self) -> int:
        """Recipients whose outcome is settled: nothing more will happen to them by itself."""
        return self.sent + self.failed + self.skipped + self.unconfirmed + self.cancelled

    @property
    def finished(self) -> bool:
        return self.accounted == self.recipients

    def explanation(self) -> str:
        """Which counts add up (or do not yet) to the recipients."""
        values = {name: getattr(self, name) for name in _NUMBERS} | {"accounted": self.accounted}
        text = (texts.FINISHED if self.finished else texts.NOT_FINISHED).format(**values)
        if self.unconfirmed:
            text += " " + texts.UNCONFIRMED_HINT.format(unconfirmed=self.unconfirmed)
        return text


_NUMBERS = (
    "recipients",
    "queued",
    "sending",
    "sent",
    "failed",
    "skipped",
    "unconfirmed",
    "cancelled",
    "replied",
    "unsubscribed",
    "bounced",
)


@dataclass(frozen=True, slots=True)
class ChannelResults:
    channel: str | None  # the hub channel the recipients were (or would be) sent through
    counts: Counts


@dataclass(frozen=True, slots=True)
class Results:
    campaign_id: int
    total: Counts
    channels: tuple[ChannelResults, ...]

    @property
    def finished(self) -> bool:
        return self.total.finished

    def explanation(self) -> str:
        return self.total.explanation()


def _counts(values: list[int], reasons: Mapping[str, int]) -> Counts:
    (recipients, queued, sending, sent, failed, skipped, unconfirmed, cancelled) = values[:8]
    replied, unsubscribed, bounced = values[8:11]
    return Counts(
        recipients,
        queued,
        sending,
        sent,
        failed,
        skipped,
        unconfirmed,
        cancelled,
        replied,
        unsubscribed,
        bounced,
        dict(sorted(reasons.items())),
    )


def _state(state: RecipientState) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((R.state == state.value, 1), else_=0)), 0)


_COUNTS = (
    func.count(R.id),
    _state(RecipientState.QUEUED),
    _state(RecipientState.SENDING),
    _state(RecipientState.SENT),
    _state(RecipientState.FAILED),
    _state(RecipientState.SKIPPED),
    _state(RecipientState.UNCONFIRMED),
    _state(RecipientState.CANCELLED),
    func.count(R.replied_at),
    func.count(R.unsubscribed_at),
    func.count(R.bounced_at),
)


async def campaign_results(session: AsyncSession, campaign_id: int) -> Results:
    """Counts for the whole campaign and per channel (two grouped queries)."""
    rows = await session.execute(
        select(R.channel, *_COUNTS).where(R.campaign_id == campaign_id).group_by(R.channel)
    )
    per_channel: dict[str | None, list[int]] = {
        channel: [int(value) for value in values] for channel, *values in rows
    }
    reasons = await session.execute(
        select(R.channel, R.skip_reason, func.count(R.id))
        .where(R.campaign_id == campaign_id, R.state == RecipientState.SKIPPED.value)
        .group_by(R.channel, R.skip_reason)
    )
    by_reason: dict[str | None, dict[str, int]] = {}
    total_reasons: dict[str, int] = {}
    for channel, reason, count in reasons:
        name = reason or "unknown"
        by_reason.setdefault(channel, {})[name] = int(count)
        total_reasons[name] = total_reasons.get(name, 0) + int(count)
    channels = tuple(
        ChannelResults(
            channel,
            _counts(values, by_reason.get(channel, {})),
        )
        for channel, values in sorted(per_channel.items(), key=lambda item: item[0] or "")
    )
    sums = [sum(values[i] for values in per_channel.values()) for i in range(len(_NUMBERS))]
    total = _counts(sums, total_reasons)
    return Results(campaign_id, total, channels)


# --- over time ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimeBucket:
    start: datetime
    channel: str | None
    sent: int


@dataclass(frozen=True, slots=True)
class ActivityBucket:
    """What happened to the campaign's messages in one bucket of time."""

    start: datetime
    sent: int = 0
    replied: int = 0
    unsubscribed: int = 0
    bounced: int = 0


def _bucket_of(dialect: str, bucket: Bucket, column: Any = R.sent_at) -> ColumnElement[Any]:
    if dialect == "postgresql":  # truncated in UTC, whatever the session's time zone
        return func.date_trunc(bucket, func.timezone("UTC", column))
    pattern = "%Y-%m-%d %H:%M:00" if bucket == "minute" else "%Y-%m-%d %H:00:00"
    return func.strftime(pattern, column)


def _as_time(value: object) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


async def choose_bucket(session: AsyncSession, campaign_id: int) -> Bucket:
    """Minutes for a send of up to three hours, else hours."""
    first, last = (
        await session.execute(
            select(func.min(R.sent_at), func.max(R.sent_at)).where(R.campaign_id == campaign_id)
        )
    ).one()
    if first is None or last is None:
        return "minute"
    return "minute" if (last - first).total_seconds() <= 3 * 3600 else "hour"


async def sends_over_time(
    session: AsyncSession, campaign_id: int, bucket: Bucket | None = None
) -> list[TimeBucket]:
    """Messages sent per bucket (from ``sent_at``) and channel, oldest first."""
    bucket = bucket or await choose_bucket(session, campaign_id)
    start = _bucket_of(session.get_bind().dialect.name, bucket).label("start")
    rows = await session.execute(
        select(start, R.channel, func.count(R.id))
        .where(R.campaign_id == campaign_id, R.sent_at.is_not(None))
        .group_by(start, R.channel)
        .order_by(start, R.channel)
    )
    return [TimeBucket(_as_time(when), channel, int(count)) for when, channel, count in rows]


ACTIVITY = ("sent", "replied", "unsubscribed", "bounced")


async def activity_over_time(
    session: AsyncSession, campaign_id: int, bucket: Bucket | None = None
) -> list[ActivityBucket]:
    """Sends, replies, unsubscribes and bounces per bucket, oldest first (one grouped query
    per kind of event, in one statement)."""
    bucket = bucket or await choose_bucket(session, campaign_id)
    dialect = session.get_bind().dialect.name
    parts = []
    for name in ACTIVITY:
        column = getattr(R, f"{name}_at")
        start = _bucket_of(dialect, bucket, column)
        parts.append(
            select(start.label("start"), literal(name).label("what"), func.count(R.id))
            .where(R.campaign_id == campaign_id, column.is_not(None))
            .group_by(start)
        )
    found: dict[datetime, dict[str, int]] = {}
    for when, what, count in await session.execute(union_all(*parts)):
        found.setdefault(_as_time(when), {})[what] = int(count)
    return [ActivityBucket(start, **found[start]) for start in sorted(found)]


def activity_chart(series: list[ActivityBucket], bucket: Bucket = "minute") -> str:
    """Sends, replies, unsubscribes and bounces over time as SVG grouped bars."""
    chart = _chart(pygal.Bar, texts.ACTIVITY_CHART_TITLE, len(series))
    chart.x_labels = [point.start.strftime(_label(bucket)) for point in series]
    for name in ACTIVITY:
        chart.add(name, [getattr(point, name) for point in series])
    return _svg(chart)


def _label(bucket: Bucket) -> str:
    return "%H:%M" if bucket == "minute" else "%m-%d %H:00"


def _chart(kind: Any, title: str, points: int) -> Any:
    return kind(
        js=[],
        disable_xml_declaration=True,
        width=720,
        height=320,
        explicit_size=False,
        title=title,
        x_label_rotation=30,
        show_minor_x_labels=points <= 24,
        x_labels_major_count=12,
        style=Style(background="white", plot_background="white", font_family="system-ui"),
        no_data_text=texts.CHART_EMPTY,
    )


def _svg(chart: Any) -> str:
    # pygal inlines its tooltip config as a script; the page needs none (its table has the
    # numbers), and a page without scripts passes a strict Content-Security-Policy.
    return _SCRIPT.sub("", str(chart.render(is_unicode=True)))


def results_chart(series: list[TimeBucket], bucket: Bucket = "minute") -> str:
    """Sends over time as an SVG stacked bar chart (one colour per channel), to inline in a
    page next to the table of the same numbers. No script and nothing from elsewhere."""
    starts = sorted({point.start for point in series})
    channels = sorted({point.channel or texts.NO_CHANNEL for point in series})
    values = {(p.start, p.channel or texts.NO_CHANNEL): p.sent for p in series}
    chart = _chart(pygal.StackedBar, texts.CHART_TITLE, len(starts))
    chart.x_labels = [start.strftime(_label(bucket)) for start in starts]
    for channel in channels:
        chart.add(channel, [values.get((start, channel), 0) for start in starts])
    return _svg(chart)


# --- the per-recipient export ---------------------------------------------------------------

CSV_COLUMNS = (
    "recipient_id",
    "customer_id",
    "customer_name",
    "channel",
    "address",
    "state",
    "reason",
    "error",
    "sent_at",
    "replied_at",
    "unsubscribed_at",
    "bounced_at",
    "reply_conversation_id",
)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    text = str(value)
    # A spreadsheet must not run a cell as a formula (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_csv(
    session: AsyncSession, campaign_id: int, chunk_rows: int = 1000
) -> AsyncIterator[str]:
    """The CSV of every recipient's outcome (header first), in chunks of text, streamed from
    the database in recipient order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    query = (
        select(
            R.id,
            R.customer_id,
            Customer.name,
            R.channel,
            Identity.kind,
            Identity.address,
            R.state,
            R.skip_reason,
            R.last_error,
            R.sent_at,
            R.replied_at,
            R.unsubscribed_at,
            R.bounced_at,
            R.reply_conversation_id,
        )
        .join(Customer, Customer.id == R.customer_id)
        .outerjoin(Identity, Identity.id == R.identity_id)
        .where(R.campaign_id == campaign_id)
        .order_by(R.id)
        .execution_options(yield_per=chunk_rows)
    )
    yield buffer.getvalue()
    result = await session.stream(query)
    async for partition in result.partitions(chunk_rows):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_row(row) for row in partition)
        yield buffer.getvalue()


def _csv_row(row: Any) -> list[str]:
    (rid, customer_id, name, channel, kind, address, state, reason, error, *times) = row
    shown = mask(kind, address) if kind and address else ""
    values = (rid, customer_id, name, channel, shown, STATE_NAMES.get(state, state), reason, error)
    return [_cell(value) for value in (*values, *times)]


# --- everything a results page shows, in one call ----------------------------------------------


@dataclass(frozen=True, slots=True)
class Report:
    results: Results
    bucket: Bucket
    sends: list[TimeBucket]
    activity: list[ActivityBucket]

    def sends_chart(self) -> str:
        return results_chart(self.sends, self.bucket)

    def activity_chart(self) -> str:
        return activity_chart(self.activity, self.bucket)


async def campaign_report(
    session: AsyncSession, campaign_id: int, bucket: Bucket | None = None
) -> Report:
    """The counts, the series over time (minutes or hours, chosen from the send's length
    unless given) and their charts: what the results page and the API show."""
    bucket = bucket or await choose_bucket(session, campaign_id)
    return Report(
        await campaign_results(session, campaign_id),
        bucket,
        await sends_over_time(session, campaign_id, bucket),
        await activity_over_time(session, campaign_id, bucket),
    )
