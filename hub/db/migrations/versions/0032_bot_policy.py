"""bot policy: each bot's hours (a calendar name, none = always) and its limit of turns without
progress; each conversation's count of such turns and a digest of the bot's last answer

Revision ID: 0032_bot_policy
Revises: 0031_bots
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032_bot_policy"
down_revision = "0031_bots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bots") as batch:
        batch.add_column(sa.Column("hours", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "max_turns_without_progress", sa.Integer(), nullable=False, server_default="0"
            )
        )
    with op.batch_alter_table("bot_sessions") as batch:
        batch.add_column(sa.Column("stalled", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_answer", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bot_sessions") as batch:
        batch.drop_column("last_answer")
        batch.drop_column("stalled")
    with op.batch_alter_table("bots") as batch:
        batch.drop_column("max_turns_without_progress")
        batch.drop_column("hours")
