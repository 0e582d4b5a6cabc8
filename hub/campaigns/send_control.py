"""Sending a campaign and steering it: send now (its recipients fixed in one snapshot), schedule
it for later, pause, resume and cancel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import texts
from hub.campaigns.drafting import check_sendable
from hub.campaigns.send_progress import open_rows, progress
from hub.campaigns.snapshot import take_snapshot
from hub.campaigns.views import (
    EDITABLE,
    CampaignContext,
    CampaignError,
    CampaignView,
    Progress,
    load_campaign,
)
from hub.core.authz import Principal
from hub.db.campaign_models import (
    Campaign,
    CampaignRecipient,
    CampaignState,
    RecipientState,
    Segment,
)


async def _require_sendable(
    session: AsyncSession, context: CampaignContext, row: Campaign, now: datetime
) -> None:
    problems = await check_sendable(session, context, row.id, now)
    if problems:
        raise CampaignError(problems)


async def send_now(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    now: datetime,
) -> Progress:
    """Check the campaign, fix its recipients (one ``INSERT … SELECT`` and set-based
    updates, see snapshot.py) and mark it ``sending``. The sender starts once the caller
    commits (and calls ``context.wake()``)."""
    row = await load_campaign(session, principal, campaign_id)
    if row.state not in EDITABLE:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="sent")},
            status=409,
            code="conflict",
        )
    await _require_sendable(session, context, row, now)
    await start(session, context, row, now)
    return await progress(session, principal, campaign_id)


async def start(
    session: AsyncSession, context: CampaignContext, row: Campaign, now: datetime
) -> int:
    """Snapshot and mark sending (send_now, and the sender for a scheduled campaign whose
    moment came); returns the number of recipients."""
    segment = await session.get(Segment, row.segment_id) if row.segment_id else None
    assert segment is not None
    row.state = CampaignState.SENDING.value
    row.started_at = now
    row.updated_at = now
    count = await take_snapshot(session, row, segment, context.settings, context.channels, now)
    if count == 0 or not await open_rows(session, row.id):
        row.state = CampaignState.FINISHED.value
        row.finished_at = now
    return count


async def schedule(
    session: AsyncSession,
    principal: Principal,
    context: CampaignContext,
    campaign_id: int,
    at: datetime,
    now: datetime,
) -> CampaignView:
    """Send at ``at`` (timezone-aware, in the future); the sender starts it then. Scheduling
    again moves the moment."""
    row = await load_campaign(session, principal, campaign_id)
    if row.state not in EDITABLE:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action="scheduled")},
            status=409,
            code="conflict",
        )
    if at.tzinfo is None or at <= now:
        raise CampaignError({"scheduled_at": texts.NOT_SCHEDULABLE})
    await _require_sendable(session, context, row, now)
    row.state = CampaignState.SCHEDULED.value
    row.scheduled_at = at
    row.updated_at = now
    return CampaignView.of(row)


async def _move(
    session: AsyncSession,
    principal: Principal,
    campaign_id: int,
    now: datetime,
    allowed: tuple[CampaignState, ...],
    target: CampaignState,
    action: str,
) -> Campaign:
    row = await load_campaign(session, principal, campaign_id)
    if row.state not in allowed:
        raise CampaignError(
            {"state": texts.CANNOT.format(state=row.state, action=action)},
            status=409,
            code="conflict",
        )
    row.state = target.value
    row.updated_at = now
    return row


async def pause(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    """Stop claiming recipients; messages already handed to a provider finish (within a
    second or two nothing more goes out)."""
    row = await _move(
        session,
        principal,
        campaign_id,
        now,
        (CampaignState.SENDING,),
        CampaignState.PAUSED,
        "paused",
    )
    return CampaignView.of(row)


async def resume(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    row = await _move(
        session,
        principal,
        campaign_id,
        now,
        (CampaignState.PAUSED,),
        CampaignState.SENDING,
        "resumed",
    )
    return CampaignView.of(row)


async def cancel(
    session: AsyncSession, principal: Principal, campaign_id: int, now: datetime
) -> CampaignView:
    """Cancel a scheduled, sending or paused campaign: every queued recipient becomes
    ``cancelled``; those in flight finish as sent, failed or unconfirmed."""
    allowed = (CampaignState.SCHEDULED, CampaignState.SENDING, CampaignState.PAUSED)
    row = await _move(
        session, principal, campaign_id, now, allowed, CampaignState.CANCELLED, "cancelled"
    )
    await session.execute(
        update(CampaignRecipient)
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            CampaignRecipient.state == RecipientState.QUEUED.value,
        )
        .values(state=RecipientState.CANCELLED.value, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    row.finished_at = now
    return CampaignView.of(row)
