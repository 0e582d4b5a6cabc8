"""Indexes the audience side needs on the campaign tables (migration 0019_audience): segment
counts and senders ask "has this customer granted consent (on this kind of channel)?" for many
customers at once, which an index-only scan on (kind, state, customer_id) answers."""

from __future__ import annotations

from sqlalchemy import Index

from hub.db.campaign_models import Consent

CONSENT_GRANTED_INDEX = Index(
    "ix_consents_kind_state_customer", Consent.kind, Consent.state, Consent.customer_id
)
