"""web chat widget: files visitors upload, bound to the visitor who uploaded them

Revision ID: 0013_widget_files
Revises: 0008_files
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0013_widget_files"
down_revision = "0008_files"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_uploads",
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["stored_files.id"],
            name=op.f("fk_widget_uploads_file_id_stored_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", name=op.f("pk_widget_uploads")),
    )
    op.create_index(
        "ix_widget_uploads_visitor", "widget_uploads", ["visitor_id", "client_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_widget_uploads_visitor", table_name="widget_uploads")
    op.drop_table("widget_uploads")
