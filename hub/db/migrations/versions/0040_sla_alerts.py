"""when the SLA sweep next has something to do for a clock (a warning or a breach not yet
recorded), so that it reads only those clocks, not every clock due within a day

Revision ID: 0040_sla_alerts
Revises: 0005_routing
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0040_sla_alerts"
down_revision = "0005_routing"
branch_labels = None
depends_on = None
DUE_COLUMNS = ("first_due_at", "next_due_at", "resolution_due_at")


def upgrade() -> None:
    with op.batch_alter_table("sla_clocks") as batch:
        batch.add_column(sa.Column("alert_at", hub.db.base.UTCDateTime(timezone=True)))
    op.create_index("ix_sla_clocks_alert_at", "sla_clocks", ["alert_at"])
    # Every clock with a due time is looked at once more by the sweep, which then keeps it.
    clocks = sa.table(
        "sla_clocks",
        sa.column("dirty", sa.Boolean()),
        *(sa.column(name, sa.DateTime()) for name in DUE_COLUMNS),
    )
    op.execute(
        clocks.update()
        .where(sa.or_(*(clocks.c[name].is_not(None) for name in DUE_COLUMNS)))
        .values(dirty=True)
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clocks_alert_at", table_name="sla_clocks")
    with op.batch_alter_table("sla_clocks") as batch:
        batch.drop_column("alert_at")
