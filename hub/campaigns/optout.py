"""Opting out from a campaign message: the one-click unsubscribe (RFC 8058) and the preference
page, both reached by the signed, recipient-bound token of ``hub.campaigns.links``.

Unsubscribing revokes consent on the identity the campaign reached (source ``unsubscribe``, the
campaign named in the history) and marks the recipient row; an address the hub suppressed
(bounces) stays suppressed. The preference page lets the customer grant or revoke consent per
identity and choose the preferred channel (source ``preferences``)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns.links import read_token
from hub.config.settings import Settings
from hub.core.consent import record_consent
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    Consent,
    ConsentSource,
    ConsentState,
)
from hub.db.models import Customer, Identity

# The identity kinds a campaign can reach (the API channel's identities are systems, not people).
MESSAGEABLE = ("email", "telegram", "slack", "web")
KIND_NAMES = {"email": "Email", "telegram": "Telegram", "slack": "Slack", "web": "Web chat"}


def mask(kind: str, address: str) -> str:
    """An address as a page or an export may show it: enough to recognise, not to reuse."""
    if kind == "email" and "@" in address:
        local, _, domain = address.rpartition("@")
        return f"{local[:1]}•••@{domain}"
    if len(address) <= 4:
        return "•" * len(address)
    return "•••" + address[-4:]


def unsubscribe_mailbox(settings: Settings) -> str:
    """The mailto: of ``List-Unsubscribe``."""
    return settings.campaigns.unsubscribe_address or f"unsubscribe@{settings.mail_domain}"


@dataclass(frozen=True, slots=True)
class Addressed:
    """The recipient a valid token names, with what its pages show."""

    recipient: CampaignRecipient
    campaign_name: str
    customer_name: str
    kind: str | None
    address: str  # masked

    @property
    def unsubscribed(self) -> bool:
        return self.recipient.unsubscribed_at is not None


async def recipient_of(
    session: AsyncSession, settings: Settings, token: str, now: datetime
) -> Addressed | None:
    """The recipient of a valid token, or None (forged, malformed, expired, or its row gone)."""
    link = read_token(settings.secret_key, token, now, settings.campaigns.token_days)
    if link is None:
        return None
    row = (
        await session.execute(
            select(CampaignRecipient, Campaign.name, Customer.name, Identity.kind, Identity.address)
            .join(Campaign, Campaign.id == CampaignRecipient.campaign_id)
            .join(Customer, Customer.id == CampaignRecipient.customer_id)
            .outerjoin(Identity, Identity.id == CampaignRecipient.identity_id)
            .where(CampaignRecipient.id == link.recipient_id)
        )
    ).first()
    if row is None:
        return None
    recipient, campaign, customer, kind, address = row
    shown = mask(kind, address) if kind and address else ""
    return Addressed(recipient, campaign, customer, kind, shown)


async def _identities_to_revoke(session: AsyncSession, recipient: CampaignRecipient) -> list[int]:
    if recipient.identity_id is not None:
        return [recipient.identity_id]
    # Never sent (no identity chosen): every identity the customer granted consent on.
    rows = await session.scalars(
        select(Consent.identity_id).where(
            Consent.customer_id == recipient.customer_id, Consent.state == ConsentState.GRANTED
        )
    )
    return list(rows)


async def revoke(
    session: AsyncSession,
    identity_id: int,
    source: ConsentSource,
    now: datetime,
    *,
    campaign_id: int | None,
    note: str,
) -> bool:
    """Revoke consent on one identity unless it is already revoked or suppressed; whether it
    changed."""
    state = await session.scalar(select(Consent.state).where(Consent.identity_id == identity_id))
    if state in (ConsentState.REVOKED, ConsentState.SUPPRESSED):
        return False
    await record_consent(
        session,
        identity_id,
        ConsentState.REVOKED,
        source,
        now,
        campaign_id=campaign_id,
        note=note,
    )
    return True


async def unsubscribe(
    session: AsyncSession, recipient: CampaignRecipient, now: datetime, *, note: str
) -> bool:
    """Opt the recipient out (in the caller's transaction); False when it already was."""
    changed = False
    for identity_id in await _identities_to_revoke(session, recipient):
        changed |= await revoke(
            session,
            identity_id,
            ConsentSource.UNSUBSCRIBE,
            now,
            campaign_id=recipient.campaign_id,
            note=note,
        )
    if recipient.unsubscribed_at is None:
        recipient.unsubscribed_at = now
        changed = True
    await session.flush()
    return changed


# --- the preference page --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelChoice:
    identity_id: int
    kind: str
    kind_name: str
    address: str  # masked
    subscribed: bool
    suppressed: bool


@dataclass(frozen=True, slots=True)
class Preferences:
    customer_name: str
    campaign_name: str
    channels: tuple[ChannelChoice, ...]
    preferred: str | None  # an identity kind

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(choice.kind for choice in self.channels))


def form_key(secret: str, token: str) -> str:
    """The preference form's CSRF value: bound to the link's token, unknown without the
    secret."""
    digest = hmac.new(secret.encode(), b"preferences\x00" + token.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def form_key_ok(secret: str, token: str, given: str) -> bool:
    return hmac.compare_digest(form_key(secret, token).encode(), given.encode())


async def preferences_of(session: AsyncSession, addressed: Addressed) -> Preferences:
    customer_id = addressed.recipient.customer_id
    rows = await session.execute(
        select(Identity.id, Identity.kind, Identity.address, Consent.state)
        .outerjoin(Consent, Consent.identity_id == Identity.id)
        .where(Identity.customer_id == customer_id, Identity.kind.in_(MESSAGEABLE))
        .order_by(Identity.id)
    )
    choices = tuple(
        ChannelChoice(
            identity_id=identity_id,
            kind=kind,
            kind_name=KIND_NAMES.get(kind, kind),
            address=mask(kind, address),
            subscribed=state == ConsentState.GRANTED,
            suppressed=state == ConsentState.SUPPRESSED,
        )
        for identity_id, kind, address, state in rows
    )
    preferred = await session.scalar(
        select(Customer.preferred_channel).where(Customer.id == customer_id)
    )
    return Preferences(addressed.customer_name, addressed.campaign_name, choices, preferred)


class BadChoice(ValueError):
    """A preference form naming a channel that is not the customer's."""


async def save_preferences(
    session: AsyncSession,
    addressed: Addressed,
    subscribed: Collection[int],
    preferred: str | None,
    now: datetime,
) -> int:
    """Apply the form (in the caller's transaction): consent granted on the ticked identities,
    revoked on the others (suppressed ones stay suppressed), the preferred channel set. The
    number of identities whose consent changed. Raises ``BadChoice`` before changing anything
    when the form names an identity or channel that is not the customer's."""
    current = await preferences_of(session, addressed)
    own = {choice.identity_id: choice for choice in current.channels}
    if not set(subscribed) <= set(own) or (preferred and preferred not in current.kinds):
        raise BadChoice(preferred or "")
    campaign_id = addressed.recipient.campaign_id
    changed = 0
    for identity_id, choice in own.items():
        if choice.suppressed:
            continue
        wanted = identity_id in subscribed
        if wanted and not choice.subscribed:
            await record_consent(
                session,
                identity_id,
                ConsentState.GRANTED,
                ConsentSource.PREFERENCES,
                now,
                campaign_id=campaign_id,
            )
            changed += 1
        elif not wanted and choice.subscribed:
            await record_consent(
                session,
                identity_id,
                ConsentState.REVOKED,
                ConsentSource.PREFERENCES,
                now,
                campaign_id=campaign_id,
            )
            changed += 1
            if identity_id == addressed.recipient.identity_id:
                addressed.recipient.unsubscribed_at = addressed.recipient.unsubscribed_at or now
    customer = await session.get(Customer, addressed.recipient.customer_id)
    if customer is not None:
        customer.preferred_channel = preferred or None
    await session.flush()
    return changed
