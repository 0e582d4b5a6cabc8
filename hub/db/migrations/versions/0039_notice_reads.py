"""which staff member has read which notice (the notices page and its unread count)

Revision ID: 0039_notice_reads
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0039_notice_reads"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_reads",
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("read_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_notice_reads_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["admin_notices.id"],
            name=op.f("fk_notice_reads_notice_id_admin_notices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notice_id", "agent_id", name=op.f("pk_notice_reads")),
    )


def downgrade() -> None:
    op.drop_table("notice_reads")
