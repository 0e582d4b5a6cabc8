"""the CRM side: customer tags as rows, the audit trail of profile edits, and the customer
directory's indexes (company and chat handle prefixes, contact and creation sorts, tier)

Existing customers' tags are copied into ``customer_tags``.

Revision ID: 0018_crm
Revises: 0014_job_queue
Create Date: 2026-12-03
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

import hub.db.base

revision = "0018_crm"
down_revision = "0014_job_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_tags",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_customer_tags_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f("pk_customer_tags")),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag", "customer_id"], unique=False)
    op.create_table(
        "customer_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=200), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=False),
        sa.Column("new_value", sa.Text(), nullable=False),
        sa.Column("created_at", hub.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_customer_changes_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_changes_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_changes")),
    )
    op.create_index(
        "ix_customer_changes_customer", "customer_changes", ["customer_id", "id"], unique=False
    )
    op.create_index("ix_customers_company_key", "customers", [sa.text("lower(company)")])
    op.create_index(
        "ix_customers_last_contact",
        "customers",
        ["last_contact_at", "id"],
        postgresql_ops={"last_contact_at": "DESC NULLS LAST", "id": "DESC"},
    )
    op.create_index("ix_customers_created", "customers", ["created_at", "id"])
    op.create_index("ix_customers_tier", "customers", ["tier", "name_key"])
    op.create_index("ix_identities_handle", "identities", ["kind", sa.text("lower(display_name)")])
    _copy_tags()


def _copy_tags() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, tags FROM customers WHERE tags IS NOT NULL"))
    values = []
    for customer_id, tags in rows:
        listed = json.loads(tags) if isinstance(tags, str) else tags
        for tag in dict.fromkeys(listed or ()):
            if isinstance(tag, str) and tag and len(tag) <= 64:
                values.append({"customer_id": customer_id, "tag": tag})
    if values:
        connection.execute(
            sa.text("INSERT INTO customer_tags (customer_id, tag) VALUES (:customer_id, :tag)"),
            values,
        )


def downgrade() -> None:
    op.drop_index("ix_identities_handle", table_name="identities")
    op.drop_index("ix_customers_tier", table_name="customers")
    op.drop_index("ix_customers_created", table_name="customers")
    op.drop_index("ix_customers_last_contact", table_name="customers")
    op.drop_index("ix_customers_company_key", table_name="customers")
    op.drop_index("ix_customer_changes_customer", table_name="customer_changes")
    op.drop_table("customer_changes")
    op.drop_index("ix_customer_tags_tag", table_name="customer_tags")
    op.drop_table("customer_tags")
