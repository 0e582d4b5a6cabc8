"""indexes for mail threading: messages by external id alone (In-Reply-To/References lookups
across channels scanned the message log) and conversations by customer, status and activity
(the subject match of a new mail)

Revision ID: 0035_email_threading
Revises: 0020_admin_audit
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0035_email_threading"
down_revision = "0020_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_messages_external_id", "messages", ["external_id"])
    op.create_index(
        "ix_conversations_customer_activity",
        "conversations",
        ["customer_id", "status", "last_activity_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_customer_activity", table_name="conversations")
    op.drop_index("ix_messages_external_id", table_name="messages")
