"""The next SLA deadline on the conversation (``sla_due_at``), filled from the SLA clock or the
ticket, with the indexes the inbox's SLA sort and filter walk.

Revision ID: 0007_sla_due
Revises: 0003_inbox, 0005_routing
Create Date: 2026-11-22 23:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0007_sla_due"
down_revision = ("0003_inbox", "0005_routing")
branch_labels = None
depends_on = None

# Fixed here (not imported) so that later model changes do not change this migration.
INDEXES: dict[str, tuple[str, ...]] = {
    "ix_inbox_status_sla": ("status", "sla_due_at", "id"),
    "ix_inbox_assignee_sla": ("assignee_id", "status", "sla_due_at", "id"),
    "ix_inbox_team_sla": ("team_id", "status", "sla_due_at", "id"),
    "ix_inbox_sla": ("sla_due_at", "id"),
}


# As hub.core.sla.next_due: the clock decides where there is one, else the latest ticket; first
# response until answered (or resolution if earlier), then resolution; only open conversations
# (pending, snoozed and resolved ones have their clock paused).
BACKFILL = """
UPDATE conversations SET sla_due_at = CASE
  WHEN EXISTS (SELECT 1 FROM sla_clocks c WHERE c.conversation_id = conversations.id) THEN (
    SELECT CASE
      WHEN c.first_responded_at IS NULL AND conversations.first_response_at IS NULL THEN
        CASE
          WHEN c.first_due_at IS NULL THEN c.resolution_due_at
          WHEN c.resolution_due_at IS NULL THEN c.first_due_at
          WHEN c.first_due_at < c.resolution_due_at THEN c.first_due_at
          ELSE c.resolution_due_at
        END
      ELSE c.resolution_due_at
    END
    FROM sla_clocks c WHERE c.conversation_id = conversations.id)
  ELSE (
    SELECT CASE
      WHEN conversations.first_response_at IS NULL THEN
        CASE
          WHEN t.first_response_due_at IS NULL THEN t.resolution_due_at
          WHEN t.resolution_due_at IS NULL THEN t.first_response_due_at
          WHEN t.first_response_due_at < t.resolution_due_at THEN t.first_response_due_at
          ELSE t.resolution_due_at
        END
      ELSE t.resolution_due_at
    END
    FROM tickets t WHERE t.conversation_id = conversations.id
    ORDER BY t.id DESC LIMIT 1)
END
WHERE status = 'open'
"""


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column("sla_due_at", hub.db.base.UTCDateTime(timezone=True), nullable=True),
    )
    op.execute(BACKFILL)
    for name, columns in INDEXES.items():
        op.create_index(name, "conversations", list(columns), unique=False)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("sla_due_at")
