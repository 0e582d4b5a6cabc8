"""Routing engine: editable rules, conversation routing state, SLA clocks and events, jobs,
follow-up templates, admin notices, satisfaction answers, FAQ entries.

Revision ID: 0005_routing
Revises: 0001
Create Date: 2026-01-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import hub.db.base

revision = "0005_routing"
down_revision = "0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _time(name: str, nullable: bool) -> sa.Column[object]:
    return sa.Column(name, hub.db.base.UTCDateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        _time("created_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
    )
    op.create_table(
        "followup_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=35), nullable=False),
        sa.Column("part", sa.String(length=8), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("saved_by", sa.Integer(), nullable=True),
        _time("updated_at", False),
        _fk("saved_by", "followup_templates", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followup_templates")),
        sa.UniqueConstraint(
            "name",
            "channel",
            "locale",
            "part",
            name=op.f("uq_followup_templates_name_channel_locale_part"),
        ),
    )
    op.create_table(
        "routing_rulesets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        _time("updated_at", False),
        _fk("updated_by", "routing_rulesets", "agents"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rulesets")),
    )
    op.create_table(
        "admin_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        _time("created_at", False),
        _fk("agent_id", "admin_notices", "agents"),
        _fk("conversation_id", "admin_notices", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_notices")),
    )
    with op.batch_alter_table("admin_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_notices_agent_id"), ["agent_id"], unique=False)
    op.create_table(
        "conversation_routing",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=200), nullable=True),
        sa.Column("strategy", sa.String(length=16), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("tags", JSON, nullable=False),
        _time("queued_at", True),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        _time("assigned_at", True),
        sa.Column("bot", sa.String(length=64), nullable=True),
        sa.Column("bot_active", sa.Boolean(), nullable=False),
        sa.Column("spam", sa.Boolean(), nullable=False),
        _time("created_at", False),
        _fk("assigned_to", "conversation_routing", "agents"),
        _fk("conversation_id", "conversation_routing", "conversations"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_routing")),
    )
    with op.batch_alter_table("conversation_routing", schema=None) as batch_op:
        batch_op.create_index(
            "ix_conversation_routing_queue", ["queued_at", "conversation_id"], unique=False
        )
    op.create_table(
        "csat_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=8), nullable=False),
        _time("created_at", False),
        _fk("conversation_id", "csat_responses", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_responses")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_csat_responses_conversation_id")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(length=300), nullable=True),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("state", sa.String(length=9), nullable=False),
        _time("run_at", False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", sa.String(length=32), nullable=True),
        _time("locked_until", True),
        sa.Column("outcome", sa.Text(), nullable=True),
        _time("created_at", False),
        _time("finished_at", True),
        _fk("conversation_id", "jobs", "conversations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_due", ["state", "run_at"], unique=False)
    op.create_table(
        "sla_clocks",
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.String(length=200), nullable=False),
        _time("started_at", False),
        sa.Column("pauses", JSON, nullable=False),
        _time("awaiting_since", True),
        _time("first_responded_at", True),
        _time("resolved_at", True),
        _time("first_due_at", True),
        _time("next_due_at", True),
        _time("resolution_due_at", True),
        sa.Column("dirty", sa.Boolean(), nullable=False),
        _fk("conversation_id", "sla_clocks", "conversations"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_sla_clocks")),
    )
    with op.batch_alter_table("sla_clocks", schema=None) as batch_op:
        batch_op.create_index("ix_sla_clocks_dirty", ["dirty"], unique=False)
    op.create_table(
        "sla_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("policy", sa.String(length=200), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        _time("due_at", False),
        _time("occurred_at", False),
        _fk("assignee_id", "sla_events", "agents"),
        _fk("conversation_id", "sla_events", "conversations"),
        _fk("team_id", "sla_events", "teams"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_events")),
        sa.UniqueConstraint(
            "conversation_id",
            "metric",
            "kind",
            "due_at",
            name=op.f("uq_sla_events_conversation_id_metric_kind_due_at"),
        ),
    )
    with op.batch_alter_table("sla_events", schema=None) as batch_op:
        batch_op.create_index("ix_sla_events_kind_time", ["kind", "occurred_at"], unique=False)


def downgrade() -> None:
    for table in (
        "sla_events",
        "sla_clocks",
        "jobs",
        "csat_responses",
        "conversation_routing",
        "admin_notices",
        "routing_rulesets",
        "followup_templates",
        "faq_entries",
    ):
        op.drop_table(table)
