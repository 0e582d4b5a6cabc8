"""the admin console's audit log: every admin change, who, when, what, old -> new

Revision ID: 0020_admin_audit
Revises: 0019_audience
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0020_admin_audit"
down_revision = "0019_audience"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=320), nullable=False),
        sa.Column("area", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["agents.id"], name=op.f("fk_admin_changes_actor_id_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_changes")),
    )
    op.create_index("ix_admin_changes_created", "admin_changes", ["created_at", "id"])
    op.create_index("ix_admin_changes_area", "admin_changes", ["area", "id"])


def downgrade() -> None:
    op.drop_index("ix_admin_changes_area", table_name="admin_changes")
    op.drop_index("ix_admin_changes_created", table_name="admin_changes")
    op.drop_table("admin_changes")
