"""Tables of the CRM side: customer tags as rows (so a tag is an indexed lookup, not a scan of
every customer's JSON list), the audit trail of profile edits, and the directory's indexes on
the customer and identity tables (prefix searches by company and handle, sorts by contact)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base
from hub.db.models import Customer, Identity


class CustomerTag(Base):
    """One tag of one customer; kept equal to ``customers.tags`` by hub.core.customer_tags."""

    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class CustomerChange(Base):
    """One edited field of a customer profile: who, when, old -> new (as shown to people)."""

    __tablename__ = "customer_changes"
    __table_args__ = (Index("ix_customer_changes_customer", "customer_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    source: Mapped[str] = mapped_column(String(16))  # edit, api, import
    field: Mapped[str] = mapped_column(String(200))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


# The directory's lookups on tables the core owns (migration 0018_crm).
COMPANY_INDEX = Index("ix_customers_company_key", func.lower(Customer.company))
# "Most recent contact first, never contacted last": SQLite's DESC puts NULLs last already;
# PostgreSQL's index is built in that order.
CONTACT_INDEX = Index(
    "ix_customers_last_contact",
    Customer.last_contact_at,
    Customer.id,
    postgresql_ops={"last_contact_at": "DESC NULLS LAST", "id": "DESC"},
)
CREATED_INDEX = Index("ix_customers_created", Customer.created_at, Customer.id)
TIER_INDEX = Index("ix_customers_tier", Customer.tier, Customer.name_key)
# Chat handles by display name, per kind (a handle's address prefix uses uq (kind, address)).
HANDLE_INDEX = Index("ix_identities_handle", Identity.kind, func.lower(Identity.display_name))
