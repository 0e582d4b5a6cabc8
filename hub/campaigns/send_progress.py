"""Following a send: recipients per state, per skip reason and per channel, and every
recipient's outcome for the CSV export."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns.views import Progress, RecipientOutcome, load_campaign
from hub.core.authz import Principal
from hub.db.campaign_models import Campaign, CampaignRecipient, RecipientState
from hub.db.models import Customer, Identity


async def open_rows(session: AsyncSession, campaign_id: int) -> bool:
    found = await session.scalar(
        select(CampaignRecipient.id)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state.in_(
                [RecipientState.QUEUED.value, RecipientState.SENDING.value]
            ),
        )
        .limit(1)
    )
    return found is not None


async def progress(session: AsyncSession, principal: Principal, campaign_id: int) -> Progress:
    """Counts per state, per skip reason and per channel (three grouped queries)."""
    row = await load_campaign(session, principal, campaign_id)
    return await counts(session, row)


async def counts(session: AsyncSession, row: Campaign) -> Progress:
    cr = CampaignRecipient
    grouped = await session.execute(
        select(cr.channel, cr.state, cr.skip_reason, func.count())
        .where(cr.campaign_id == row.id)
        .group_by(cr.channel, cr.state, cr.skip_reason)
    )
    states: dict[str, int] = {}
    skipped: dict[str, int] = {}
    channels: dict[str, dict[str, int]] = {}
    total = 0
    for channel, state, reason, number in grouped:
        total += number
        states[state] = states.get(state, 0) + number
        if state == RecipientState.SKIPPED and reason:
            skipped[reason] = skipped.get(reason, 0) + number
        if channel:
            per = channels.setdefault(channel, {})
            per[state] = per.get(state, 0) + number
    return Progress(row.id, row.state, total, states, skipped, channels)


async def recipient_outcomes(
    session: AsyncSession, principal: Principal, campaign_id: int, *, chunk: int = 2000
) -> AsyncIterator[RecipientOutcome]:
    """Every recipient with its outcome, in id order, read in chunks (the CSV export)."""
    await load_campaign(session, principal, campaign_id)
    cr = CampaignRecipient
    after = 0
    while True:
        rows = (
            await session.execute(
                select(cr, Customer.name, Identity.address)
                .join(Customer, Customer.id == cr.customer_id)
                .outerjoin(Identity, Identity.id == cr.identity_id)
                .where(cr.campaign_id == campaign_id, cr.id > after)
                .order_by(cr.id)
                .limit(chunk)
            )
        ).all()
        if not rows:
            return
        for recipient, name, address in rows:
            yield RecipientOutcome(
                recipient_id=recipient.id,
                customer_id=recipient.customer_id,
                customer_name=name,
                address=address,
                channel=recipient.channel,
                state=recipient.state,
                skip_reason=recipient.skip_reason,
                error=recipient.last_error,
                message_ref=recipient.message_ref,
                attempts=recipient.attempts,
                queued_at=recipient.queued_at,
                sent_at=recipient.sent_at,
                replied_at=recipient.replied_at,
                unsubscribed_at=recipient.unsubscribed_at,
                bounced_at=recipient.bounced_at,
            )
        after = rows[-1][0].id
        session.expunge_all()
