"""sla_events, jobs and admin_notices get the insert sentinel of 0042: the SLA monitor now
records the warnings and breaches one sweep finds together, with their notice jobs
(hub/routing/sla_events.py), and a group of those jobs delivers its notices together. Without
the column, SQLite inserts these rows one statement each (500 warnings: 1,500 inserts).
Adding a nullable column with no default rewrites nothing on either store.

Revision ID: 0043_sweep_sentinels
Revises: 0042_insert_sentinels
Create Date: 2026-12-05
"""

from __future__ import annotations

from hub.db.migrations.sentinels import add_sentinels, drop_sentinels

revision = "0043_sweep_sentinels"
down_revision = "0042_insert_sentinels"
branch_labels = None
depends_on = ("0005_routing", "0014_job_queue")  # where its three tables are created
TABLES = ("sla_events", "jobs", "admin_notices")


def upgrade() -> None:
    add_sentinels(TABLES)


def downgrade() -> None:
    drop_sentinels(TABLES)
