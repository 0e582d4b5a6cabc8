"""Retrying a campaign's recipients: the failed ones, or the unconfirmed ones (their send was in
flight when a process died; the marketer accepts that some may get the message twice)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import texts
from hub.campaigns.views import CampaignError, load_campaign
from hub.core.authz import Principal
from hub.db.campaign_models import CampaignRecipient, CampaignState, RecipientState


async def _requeue(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    now: datetime,
    state: RecipientState,
) -> int:
    row = await load_campaign(session, principal, campaign_id)
    if row.state in (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.CANCELLED):
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="retried")},
            status=409,
            code="conflict",
        )
    result: Any = await session.execute(
        update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.state == state.value)
        .values(
            state=RecipientState.QUEUED.value,
            attempts=0,
            next_attempt_at=now,
            locked_by=None,
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    count = int(result.rowcount or 0)
    if count and row.state == CampaignState.FINISHED:
        row.state = CampaignState.SENDING.value
        row.finished_at = None
    row.updated_at = now
    return count


async def retry_failed(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> int:
    """Queue the failed recipients again (a finished campaign sends again); returns how many."""
    return await _requeue(session, principal, campaign_id, now, RecipientState.FAILED)


async def retry_unconfirmed(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> int:
    """Queue the unconfirmed recipients again: the marketer accepts that some of them may get
    the message twice (their send was in flight when a process died)."""
    return await _requeue(session, principal, campaign_id, now, RecipientState.UNCONFIRMED)
