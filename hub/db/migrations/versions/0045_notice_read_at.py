"""a staff member's own notices carry when they were read, and the unread ones are counted
through a partial index: the navigation's unread count (every signed-in page) read every notice
the reader ever had, read or not, and asked ``notice_reads`` about each (at 200,000 notices,
about 100 ms a page: docs/performance.md, fifteenth round). A notice for every admin keeps its
reads in ``notice_reads``, one row per admin.

Revision ID: 0045_notice_read_at
Revises: 0039_notice_reads
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0045_notice_read_at"
down_revision = "0039_notice_reads"  # which comes after admin_notices' 0005_routing
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("admin_notices") as batch:
        batch.add_column(
            sa.Column("read_at", hub.db.base.UTCDateTime(timezone=True), nullable=True)
        )
    # The reads so far: an addressee's own notice is read when they have its notice_reads row.
    op.execute(
        "UPDATE admin_notices SET read_at = (SELECT r.read_at FROM notice_reads r"
        " WHERE r.notice_id = admin_notices.id AND r.agent_id = admin_notices.agent_id)"
        " WHERE agent_id IS NOT NULL"
    )
    op.create_index(
        "ix_admin_notices_unread",
        "admin_notices",
        ["agent_id"],
        sqlite_where=UNREAD,
        postgresql_where=UNREAD,
    )


def downgrade() -> None:
    op.drop_index("ix_admin_notices_unread", table_name="admin_notices")
    with op.batch_alter_table("admin_notices") as batch:
        batch.drop_column("read_at")
