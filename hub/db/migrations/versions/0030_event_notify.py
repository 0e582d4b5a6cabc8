"""cross-process live events on PostgreSQL: a statement trigger on the event log sends
NOTIFY relaydesk_events with the newest id of each insert (ids only; delivered at commit), which
wakes the event bus of every hub process (hub/platform/notify.py); polling stays the fallback

Revision ID: 0030_event_notify
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0030_event_notify"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION relaydesk_events_notify() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('relaydesk_events', (SELECT max(id)::text FROM fresh));
  RETURN NULL;
END
$$ LANGUAGE plpgsql
"""
TRIGGER = (
    "CREATE TRIGGER events_notify AFTER INSERT ON events REFERENCING NEW TABLE AS fresh "
    "FOR EACH STATEMENT EXECUTE FUNCTION relaydesk_events_notify()"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS events_notify ON events")
    op.execute("DROP FUNCTION IF EXISTS relaydesk_events_notify()")
