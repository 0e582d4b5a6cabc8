"""Tables of the reports: per-conversation report state (the first-response clock), the facts
recorded as things happen (first response, reply, resolution, SLA outcome, CSAT answer), and
the per-day rollups reports are drawn from (counts, sums, histograms and DDSketch bins)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, JSONType


class ReportConversation(Base):
    """Where a conversation's report clocks stand: ``cycle`` counts its openings (the first
    customer message, and each after a resolve); ``opened_at`` is the running cycle's start
    (None once resolved); ``calendar`` names the business-hours calendar its times use."""

    __tablename__ = "report_conversations"
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None]
    resolutions: Mapped[int] = mapped_column(Integer, default=0)
    calendar: Mapped[str | None] = mapped_column(String(100))


class ReportFact(Base):
    """One reporting fact. ``kind``: first_response, reply, resolution, sla, csat; ``state``:
    pending (a clock still running), done, or dropped (resolved before a human answered).
    ``dedupe`` makes recording idempotent (and a rebuild a replay)."""

    __tablename__ = "report_facts"
    __table_args__ = (
        Index("ix_report_facts_day", "kind", "day"),
        Index("ix_report_facts_open", "conversation_id", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    message_id: Mapped[int | None] = mapped_column(Integer)
    response_id: Mapped[int | None] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(16), default="")
    outcome: Mapped[str] = mapped_column(String(8), default="")
    score: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    day: Mapped[date | None] = mapped_column(Date)
    calendar_seconds: Mapped[float | None] = mapped_column(Float)
    business_seconds: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(64), default="")
    team_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    tier: Mapped[str] = mapped_column(String(32), default="")
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)


class ReportDaily(Base):
    """One day's figures of one metric for one slice: ``dim`` all (``key`` ""), channel, team,
    agent, tier or tag, or a pair of dimensions (``key`` "a|b"). Durations keep count, sums, a
    histogram and DDSketch bins for calendar (``cal_``) and business (``biz_``) seconds;
    counters keep ``count`` only."""

    __tablename__ = "report_daily"
    # SQLite keeps the rows in key order: a report reads one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}
    # Key order: a report reads one metric and dimension over a range of days.
    metric: Mapped[str] = mapped_column(String(32), primary_key=True)
    dim: Mapped[str] = mapped_column(String(8), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    cal_sum: Mapped[float] = mapped_column(Float, default=0.0)
    biz_sum: Mapped[float] = mapped_column(Float, default=0.0)
    cal_hist: Mapped[list[int]] = mapped_column(JSONType, default=list)
    biz_hist: Mapped[list[int]] = mapped_column(JSONType, default=list)
    cal_sketch: Mapped[dict[str, Any]] = mapped_column(default=dict)
    biz_sketch: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ReportHourly(Base):
    """Volume by day and hour of the day (account time zone) per channel: ``metric`` is
    messages (customer messages in) or conversations (new ones)."""

    __tablename__ = "report_hourly"
    __table_args__ = {"sqlite_with_rowid": False}
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
