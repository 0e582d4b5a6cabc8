"""customers, identities, duplicate_candidates, conversations, tickets and outbox get the
insert sentinel messages and events have: a nullable column SQLAlchemy fills while it inserts
several rows in one statement and reads back with their ids. Without it, SQLite (whose
RETURNING does not promise the rows' order) gets one INSERT per row. Ingest now writes the new
conversations of a group commit together (hub/inbound/openings.py): on SQLite, eight new
customers' first messages took eight inserts into each of these tables. Adding a nullable
column with no default rewrites nothing on either store.

Revision ID: 0042_insert_sentinels
Revises: 0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from hub.db.migrations.sentinels import add_sentinels, drop_sentinels

revision = "0042_insert_sentinels"
down_revision = "0001"
branch_labels = None
depends_on = None
TABLES = (
    "customers",
    "identities",
    "duplicate_candidates",
    "conversations",
    "tickets",
    "outbox",
)


def upgrade() -> None:
    add_sentinels(TABLES)


def downgrade() -> None:
    drop_sentinels(TABLES)
