"""indexes that keep a message from a new customer flat as history grows: messages by
recipient identity and time (mail loop protection counts, bounces)

The duplicate-candidate search's prefix matches are index ranges on ``customers.name_key`` and
the ``identities (kind, address)`` unique index, which exist already.

Revision ID: 0028_identity_indexes
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0028_identity_indexes"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_messages_identity_created", "messages", ["identity_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_messages_identity_created", table_name="messages")
