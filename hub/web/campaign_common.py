"""What the campaign API (hub/web/api/campaign_*.py) and the marketer pages
(hub/web/ui/campaigns*.py) share: the engine's context for this hub, the campaign list with
each campaign's counts (one grouped query), the segment picker, and the moment a schedule
names (ISO 8601 with its offset), and the streamed CSV answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.assembly import Hub
from hub.campaigns import drafting, views
from hub.campaigns import results as outcomes
from hub.campaigns.views import CampaignContext, CampaignError, CampaignView
from hub.core.authz import Principal
from hub.db.campaign_models import CampaignRecipient, RecipientState
from hub.web import campaign_texts as texts


def campaign_context(hub: Hub) -> CampaignContext:
    """The engine's context: the sender's own, which wakes it once the caller committed."""
    return hub.campaigns.context


@dataclass(frozen=True, slots=True)
class Listed:
    """One line of the campaign list."""

    campaign: CampaignView
    recipients: int
    sent: int
    failed: int
    skipped: int
    unconfirmed: int
    pending: int  # queued or sending


async def list_with_counts(
    session: AsyncSession,
    principal: Principal,
    *,
    state: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Listed]:
    """The campaigns newest first, each with its recipients per outcome (one grouped query
    for the whole page)."""
    views = await drafting.list_campaigns(
        session, principal, state=state, limit=limit, offset=offset
    )
    counts: dict[int, dict[str, int]] = {view.id: {} for view in views}
    if views:
        cr = CampaignRecipient
        rows = await session.execute(
            select(cr.campaign_id, cr.state, func.count())
            .where(cr.campaign_id.in_(list(counts)))
            .group_by(cr.campaign_id, cr.state)
        )
        for campaign_id, state, number in rows:
            counts[campaign_id][state] = int(number)
    return [_listed(view, counts[view.id]) for view in views]


def _listed(view: CampaignView, states: Mapping[str, int]) -> Listed:
    return Listed(
        campaign=view,
        recipients=sum(states.values()) or view.recipient_count,
        sent=states.get(RecipientState.SENT.value, 0),
        failed=states.get(RecipientState.FAILED.value, 0),
        skipped=states.get(RecipientState.SKIPPED.value, 0),
        unconfirmed=states.get(RecipientState.UNCONFIRMED.value, 0),
        pending=states.get(RecipientState.QUEUED.value, 0)
        + states.get(RecipientState.SENDING.value, 0),
    )


async def state_counts(session: AsyncSession, campaign_id: int) -> outcomes.Counts:
    """Recipients per state (one grouped query the recipients' index answers): what the
    campaign page polls every second."""
    cr = CampaignRecipient
    rows = await session.execute(
        select(cr.state, func.count()).where(cr.campaign_id == campaign_id).group_by(cr.state)
    )
    states = {state: int(number) for state, number in rows}
    return outcomes.Counts(
        recipients=sum(states.values()),
        queued=states.get(RecipientState.QUEUED.value, 0),
        sending=states.get(RecipientState.SENDING.value, 0),
        sent=states.get(RecipientState.SENT.value, 0),
        failed=states.get(RecipientState.FAILED.value, 0),
        skipped=states.get(RecipientState.SKIPPED.value, 0),
        unconfirmed=states.get(RecipientState.UNCONFIRMED.value, 0),
        cancelled=states.get(RecipientState.CANCELLED.value, 0),
    )


def counts_of(found: views.Progress) -> outcomes.Counts:
    """A progress (one grouped query) as the results' counts, for the explanation of what adds
    up to the recipients; replies, unsubscribes and bounces are the results page's."""
    return outcomes.Counts(
        recipients=found.recipients,
        queued=found.count(RecipientState.QUEUED),
        sending=found.count(RecipientState.SENDING),
        sent=found.count(RecipientState.SENT),
        failed=found.count(RecipientState.FAILED),
        skipped=found.count(RecipientState.SKIPPED),
        unconfirmed=found.count(RecipientState.UNCONFIRMED),
        cancelled=found.count(RecipientState.CANCELLED),
        skipped_by_reason=dict(sorted(found.skipped.items())),
    )


def parse_moment(raw: str, *, offset_minutes: str | None = None) -> datetime:
    """A schedule's moment: ISO 8601 with an offset (``2026-12-24T09:00:00+01:00``), or a
    form's ``datetime-local`` value with the browser's ``getTimezoneOffset()`` (minutes
    behind UTC; UTC without it). Anything else is a ``CampaignError`` on ``scheduled_at``."""
    text = raw.strip()
    if not text or len(text) > 40:
        raise CampaignError({"scheduled_at": texts.SCHEDULE_MALFORMED})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise CampaignError({"scheduled_at": texts.SCHEDULE_MALFORMED}) from None
    if moment.tzinfo is None:
        if offset_minutes is None:
            raise CampaignError({"scheduled_at": texts.SCHEDULE_NO_OFFSET})
        try:
            behind = int(offset_minutes)
        except ValueError:
            behind = 0
        if abs(behind) > 16 * 60:
            behind = 0
        moment = (moment + timedelta(minutes=behind)).replace(tzinfo=UTC)
    return moment.astimezone(UTC)


async def stream_csv(
    request: web.Request, chunks: AsyncIterator[str], filename: str
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        }
    )
    await response.prepare(request)
    async for chunk in chunks:
        await response.write(chunk.encode())
    await response.write_eof()
    return response
