"""PostgreSQL writes each message's search entries into the GIN index as the message is stored,
instead of parking them in the index's pending list (``fastupdate``, on by default). Once that
list passes ``gin_pending_list_limit`` (4 MB, about 10,000-15,000 messages), the insert that
finds it full merges the whole list into the index before it returns: measured on a million
messages (bench/search_index_upkeep.py), 130-160 ms, two to four times in 30,000 inserts,
while the ingest writer's batch waits. Without the list each insert costs 0.06-0.08 ms more
and none takes over 25 ms (docs/performance.md, fourteenth round). GitLab turned the same
option off on its GIN indexes for the same reason. SQLite keeps its FTS5 table (nothing
changes there).

Revision ID: 0044_search_no_pending_list
Revises: 0041_message_search_vector
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "0044_search_no_pending_list"
down_revision = "0041_message_search_vector"
branch_labels = None
depends_on = None

INDEX = "ix_messages_search_vector"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")
    # What the list holds already goes into the index now, not at the next vacuum.
    op.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"ALTER INDEX {INDEX} RESET (fastupdate)")
