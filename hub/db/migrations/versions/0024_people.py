"""the admin console's people side: one-time password links (invitations and resets) and
when each API token was last used

Revision ID: 0024_people
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0024_people"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "password_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", hub.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_password_links_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["agents.id"], name=op.f("fk_password_links_created_by_agents")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_links_token_hash")),
    )
    op.create_index(
        op.f("ix_password_links_agent_id"), "password_links", ["agent_id"], unique=False
    )
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(
            sa.Column("last_used_at", hub.db.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("last_used_at")
    op.drop_index(op.f("ix_password_links_agent_id"), table_name="password_links")
    op.drop_table("password_links")
