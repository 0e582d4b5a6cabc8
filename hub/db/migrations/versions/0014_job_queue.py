"""one job queue: every work table (jobs, outbox, chat file fetches, snoozes) gets the same
claim, lease and retry columns, so one implementation runs them all

Rows carry over as they are: pending work stays due when it was, failed jobs keep their error
as ``last_error``, and every snooze becomes a pending wake-up at its ``until``.

Revision ID: 0014_job_queue
Revises: 0007_sla_due, 0012_chat_files
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0014_job_queue"
down_revision = ("0007_sla_due", "0012_chat_files")
branch_labels = None
depends_on = None

WHEN = hub.db.base.UTCDateTime(timezone=True)
STAMP = sa.DateTime(timezone=True)


def _locked_by() -> sa.Column[str]:
    return sa.Column("locked_by", sa.String(length=32), nullable=True)


def _locked_until() -> sa.Column[object]:
    return sa.Column("locked_until", WHEN, nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_due")
        batch_op.alter_column("run_at", new_column_name="next_attempt_at", existing_type=STAMP)
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_due", ["state", "next_attempt_at"], unique=False)
    op.execute("UPDATE jobs SET last_error = outcome WHERE state = 'failed'")

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(_locked_by())

    with op.batch_alter_table("chat_file_fetches", schema=None) as batch_op:
        batch_op.add_column(_locked_by())
        batch_op.add_column(_locked_until())

    with op.batch_alter_table("snoozes", schema=None) as batch_op:
        batch_op.drop_index("ix_snoozes_until")
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), nullable=False, server_default="pending")
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(_locked_by())
        batch_op.add_column(_locked_until())
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    with op.batch_alter_table("snoozes", schema=None) as batch_op:
        batch_op.alter_column("state", server_default=None, existing_type=sa.String(length=16))
        batch_op.alter_column("attempts", server_default=None, existing_type=sa.Integer())
        batch_op.create_index("ix_snoozes_due", ["state", "until"], unique=False)


def downgrade() -> None:
    op.execute("DELETE FROM snoozes WHERE state <> 'pending'")
    with op.batch_alter_table("snoozes", schema=None) as batch_op:
        batch_op.drop_index("ix_snoozes_due")
        for column in ("last_error", "locked_until", "locked_by", "attempts", "state"):
            batch_op.drop_column(column)
        batch_op.create_index("ix_snoozes_until", ["until"], unique=False)
    with op.batch_alter_table("chat_file_fetches", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("locked_by")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("locked_by")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_jobs_due")
        batch_op.drop_column("last_error")
        batch_op.alter_column("next_attempt_at", new_column_name="run_at", existing_type=STAMP)
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("ix_jobs_due", ["state", "run_at"], unique=False)
