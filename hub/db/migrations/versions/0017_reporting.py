"""reports: per-conversation report clocks, facts, daily and hourly rollups

Revision ID: 0017_reporting
Revises: 0014_job_queue
Create Date: 2026-12-03
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0017_reporting"
down_revision = "0014_job_queue"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return hub.db.base.JSONType


def upgrade() -> None:
    op.create_table(
        "report_daily",
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("dim", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("cal_sum", sa.Float(), nullable=False),
        sa.Column("biz_sum", sa.Float(), nullable=False),
        sa.Column("cal_hist", _json(), nullable=False),
        sa.Column("biz_hist", _json(), nullable=False),
        sa.Column("cal_sketch", _json(), nullable=False),
        sa.Column("biz_sketch", _json(), nullable=False),
        sa.PrimaryKeyConstraint("metric", "dim", "day", "key", name=op.f("pk_report_daily")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_hourly",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "hour", "channel", "metric", name=op.f("pk_report_hourly")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "report_conversations",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("opened_at", hub.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolutions", sa.Integer(), nullable=False),
        sa.Column("calendar", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_conversations_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_report_conversations")),
    )
    op.create_table(
        "report_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("started_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", hub.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("calendar_seconds", sa.Float(), nullable=True),
        sa.Column("business_seconds", sa.Float(), nullable=True),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("tags", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_report_facts_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_facts")),
        sa.UniqueConstraint("dedupe", name=op.f("uq_report_facts_dedupe")),
    )
    op.create_index("ix_report_facts_day", "report_facts", ["kind", "day"], unique=False)
    op.create_index(
        "ix_report_facts_open", "report_facts", ["conversation_id", "state"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_report_facts_open", table_name="report_facts")
    op.drop_index("ix_report_facts_day", table_name="report_facts")
    op.drop_table("report_facts")
    op.drop_table("report_conversations")
    op.drop_table("report_hourly")
    op.drop_table("report_daily")
