"""Bounce suppression: a hard bounce suppresses the address at once; ``soft_bounce_limit``
soft bounces in a row (the last campaign messages to the address all bounced) suppress it too.
Consent becomes ``suppressed`` (source ``bounce``), which every later send (a running one
included) checks, and the bounced recipient row gets ``bounced_at``.

Called by the email area for every delivery report it records (``hub/email/inbox.py``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import IdentityKind
from channels.email.dsn import DeliveryReport, FailedRecipient
from hub.campaigns import texts
from hub.core.consent import record_consent
from hub.db.campaign_models import CampaignRecipient, Consent, ConsentSource, ConsentState
from hub.db.models import Identity

# A report without the original's Message-ID matches the address's latest campaign message
# sent within this window.
UNREFERENCED_WINDOW = timedelta(days=7)


def message_refs(ids: tuple[str, ...]) -> list[str]:
    """Message-IDs as reports give them, with and without angle brackets."""
    found: list[str] = []
    for value in ids:
        bare = value.strip().strip("<>")
        found += [f"<{bare}>", bare]
    return found


async def _bounced_row(
    session: AsyncSession, report: DeliveryReport, identity_id: int, now: datetime
) -> CampaignRecipient | None:
    query = select(CampaignRecipient).where(CampaignRecipient.identity_id == identity_id)
    if report.original_message_ids:
        by_ref = await session.scalar(
            query.where(
                CampaignRecipient.message_ref.in_(message_refs(report.original_message_ids))
            )
        )
        if by_ref is not None:
            return by_ref
    return await session.scalar(
        query.where(
            CampaignRecipient.sent_at >= now - UNREFERENCED_WINDOW,
            CampaignRecipient.bounced_at.is_(None),
        )
        .order_by(CampaignRecipient.sent_at.desc())
        .limit(1)
    )


async def _soft_in_a_row(session: AsyncSession, identity_id: int, limit: int) -> int:
    """How many of the address's latest campaign messages (up to ``limit``) bounced, counted
    from the latest until one that did not."""
    rows = await session.execute(
        select(CampaignRecipient.bounced_at)
        .where(
            CampaignRecipient.identity_id == identity_id,
            CampaignRecipient.sent_at.is_not(None),
        )
        .order_by(CampaignRecipient.sent_at.desc(), CampaignRecipient.id.desc())
        .limit(limit)
    )
    count = 0
    for (bounced_at,) in rows:
        if bounced_at is None:
            break
        count += 1
    return count


async def _suppress(
    session: AsyncSession, identity_id: int, now: datetime, campaign_id: int | None, note: str
) -> None:
    state = await session.scalar(select(Consent.state).where(Consent.identity_id == identity_id))
    if state == ConsentState.SUPPRESSED:
        return
    await record_consent(
        session,
        identity_id,
        ConsentState.SUPPRESSED,
        ConsentSource.BOUNCE,
        now,
        campaign_id=campaign_id,
        note=note[:500],
    )


def _note(recipient: FailedRecipient) -> str:
    kind = "Hard" if recipient.permanent else "Soft"
    return texts.BOUNCE_NOTE.format(
        kind=kind, status=recipient.status, diagnostic=recipient.diagnostic
    ).strip()


async def suppress_bounces(
    session: AsyncSession, report: DeliveryReport, now: datetime, soft_limit: int
) -> list[int]:
    """Apply one delivery report (in the caller's transaction); the identities suppressed.
    ``delayed`` reports (the server keeps trying) change nothing."""
    suppressed: list[int] = []
    for failed in report.failed:
        identity = await session.scalar(
            select(Identity).where(
                Identity.kind == IdentityKind.EMAIL.value,
                Identity.address.in_({failed.address.strip(), failed.address.strip().lower()}),
            )
        )
        if identity is None:
            continue
        row = await _bounced_row(session, report, identity.id, now)
        if row is not None and row.bounced_at is None:
            row.bounced_at = now
            await session.flush()
        campaign_id = row.campaign_id if row is not None else None
        if failed.permanent:
            identity.bouncing = True
            await _suppress(session, identity.id, now, campaign_id, _note(failed))
            suppressed.append(identity.id)
            continue
        count = await _soft_in_a_row(session, identity.id, soft_limit)
        if count >= soft_limit:
            note = texts.SOFT_LIMIT_NOTE.format(count=count) + "; " + _note(failed)
            await _suppress(session, identity.id, now, campaign_id, note)
            suppressed.append(identity.id)
    return suppressed
