"""What the campaign API's endpoints share: who may call them (marketers and admins), the
documented errors, and the answers built from the engine's views (a campaign, its progress, its
counts). The endpoints are in campaign_editing, campaign_sending and campaign_results."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import results as outcomes
from hub.campaigns import send_progress, views
from hub.campaigns.views import CampaignError, CampaignView
from hub.core.authz import Principal
from hub.db.models import Role
from hub.web import campaign_texts as texts
from hub.web.api.edge import Requires
from hub.web.api.models.campaigns import (
    Campaign,
    Content,
    Counts,
    Progress,
)
from hub.web.campaign_common import (
    counts_of,
)

TAG = "Campaigns"
T = TypeVar("T")


def _marketer(caller: Principal) -> bool:
    return caller.role in (Role.MARKETER, Role.ADMIN)


MARKETERS = Requires(_marketer, texts.MARKETERS_ONLY)
BAD_INPUT = (400, 401, 403, 404, 422)
STATE_CONFLICT = {409: "The campaign's state does not allow it (conflict, field state)"}


def content_of(content: Content | None) -> dict[str, dict[str, str]]:
    if content is None:
        return {}
    found: dict[str, dict[str, str]] = {}
    if content.email is not None:
        found["email"] = content.email.model_dump()
    if content.chat is not None:
        found["chat"] = content.chat.model_dump()
    return found


def campaign_answer(view: CampaignView) -> Campaign:
    return Campaign(
        id=view.id,
        name=view.name,
        state=view.state,
        segment_id=view.segment_id,
        fallback=list(view.fallback),
        content={k: dict(v) for k, v in view.content.items()},
        scheduled_at=view.scheduled_at,
        started_at=view.started_at,
        finished_at=view.finished_at,
        recipient_count=view.recipient_count,
        created_by=view.created_by,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def progress_answer(found: views.Progress, total: outcomes.Counts) -> Progress:
    return Progress(
        campaign_id=found.campaign_id,
        state=found.state,
        recipients=found.recipients,
        states=dict(found.states),
        skipped=dict(found.skipped),
        channels={k: dict(v) for k, v in found.channels.items()},
        finished=found.accounted,
        explanation=total.explanation(),
    )


def counts_answer(counts: outcomes.Counts) -> Counts:
    return Counts(
        recipients=counts.recipients,
        queued=counts.queued,
        sending=counts.sending,
        sent=counts.sent,
        failed=counts.failed,
        skipped=counts.skipped,
        unconfirmed=counts.unconfirmed,
        cancelled=counts.cancelled,
        replied=counts.replied,
        unsubscribed=counts.unsubscribed,
        bounced=counts.bounced,
        skipped_by_reason=dict(counts.skipped_by_reason),
    )


async def engine(action: Awaitable[T]) -> T:
    """The engine's answer, its ``CampaignError`` as the API error it names."""
    try:
        return await action
    except CampaignError as exc:
        raise exc.api_error() from None


async def current_progress(session: AsyncSession, principal: Principal, id_: int) -> Progress:
    found = await send_progress.progress(session, principal, id_)
    return progress_answer(found, counts_of(found))
