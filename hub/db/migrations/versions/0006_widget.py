"""web chat widget: visitors, live connections, deliveries

Revision ID: 0006_widget
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0006_widget"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "widget_visitors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("identity_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_widget_visitors_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_widget_visitors_identity_id_identities"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_visitors")),
        sa.UniqueConstraint("visitor_id", name=op.f("uq_widget_visitors_visitor_id")),
    )
    op.create_table(
        "widget_connections",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_until", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", hub.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_widget_connections")),
    )
    op.create_index(
        "ix_widget_connections_visitor", "widget_connections", ["visitor_id", "lease_until"]
    )
    op.create_table(
        "widget_deliveries",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("external_id", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_widget_deliveries_message_id_messages")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_widget_deliveries")),
    )


def downgrade() -> None:
    op.drop_table("widget_deliveries")
    op.drop_index("ix_widget_connections_visitor", table_name="widget_connections")
    op.drop_table("widget_connections")
    op.drop_table("widget_visitors")
