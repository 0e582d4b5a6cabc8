"""presence spans, agent activity and the assignment log (live operations view)

Revision ID: 0016_presence
Revises: 0014_job_queue
Create Date: 2026-12-03
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0016_presence"
down_revision = "0014_job_queue"
branch_labels = None
depends_on = None

WHEN = hub.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "presence_spans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("presence", sa.String(length=7), nullable=False),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_presence_spans_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_presence_spans")),
    )
    op.create_index(
        "ix_presence_spans_agent", "presence_spans", ["agent_id", "started_at"], unique=False
    )
    op.create_index(
        "ix_presence_spans_open", "presence_spans", ["ended_at", "agent_id"], unique=False
    )
    op.create_table(
        "agent_activity",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("last_request_at", WHEN, nullable=False),
        sa.Column("last_stream_at", WHEN, nullable=True),
        sa.Column("chosen", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_activity_agent_id_agents")
        ),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_activity")),
    )
    op.create_table(
        "agent_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("assigned_at", WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_assignments_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_agent_assignments_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_assignments")),
    )
    op.create_index(
        "ix_agent_assignments_agent", "agent_assignments", ["agent_id", "assigned_at"], unique=False
    )
    op.create_index(
        "ix_messages_author", "messages", ["author_agent_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_conversations_live",
        "conversations",
        ["status", "team_id", "channel", "assignee_id", "sla_due_at", "last_inbound_at", "id"],
        unique=False,
    )
    # Agents online or away now start their first span now, so their time counts from here.
    agents = sa.table("agents", sa.column("id"), sa.column("presence"))
    spans = sa.table(
        "presence_spans",
        sa.column("agent_id"),
        sa.column("presence"),
        sa.column("started_at", WHEN),
    )
    present = sa.select(agents.c.id, agents.c.presence, sa.literal(datetime.now(UTC), WHEN)).where(
        agents.c.presence.in_(["online", "away"])
    )
    op.execute(spans.insert().from_select(["agent_id", "presence", "started_at"], present))


def downgrade() -> None:
    op.drop_index("ix_conversations_live", table_name="conversations")
    op.drop_index("ix_messages_author", table_name="messages")
    op.drop_index("ix_agent_assignments_agent", table_name="agent_assignments")
    op.drop_table("agent_assignments")
    op.drop_table("agent_activity")
    op.drop_index("ix_presence_spans_open", table_name="presence_spans")
    op.drop_index("ix_presence_spans_agent", table_name="presence_spans")
    op.drop_table("presence_spans")
