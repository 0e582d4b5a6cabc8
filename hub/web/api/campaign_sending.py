"""The campaign API for sending one (marketers and admins): send now or schedule, pause,
resume, cancel, and queue the failed or unconfirmed recipients again. A state that does not
allow the action is a 409 naming ``state``; nothing changes then."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import drafting, retries, send_control
from hub.campaigns.views import CampaignError, CampaignView
from hub.core.authz import Principal
from hub.web.api.campaign_answers import (
    BAD_INPUT,
    MARKETERS,
    STATE_CONFLICT,
    TAG,
    campaign_answer,
    current_progress,
    engine,
)
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models.campaigns import (
    Campaign,
    CampaignId,
    Progress,
    Requeued,
    ScheduleRequest,
)
from hub.web.campaign_common import (
    campaign_context,
    parse_moment,
)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/send",
    Doc(
        TAG,
        "Send now: fix the recipients and start sending",
        "sendCampaign",
        description="Refused (422, nothing sent) while check names a problem.",
        requires=MARKETERS,
        ok={202: "Sending; follow the progress"},
        errors=(401, 403, 404, 422),
        notes=STATE_CONFLICT,
    ),
)
async def send_campaign(call: Call, path: CampaignId) -> Reply[Progress]:
    hub = call.hub
    context = campaign_context(hub)
    async with hub.db.writer() as session:
        await engine(
            send_control.send_now(session, call.principal, context, path.id, hub.clock.now())
        )
        await session.commit()
    context.wake()
    async with hub.db.reader() as session:
        return Reply(await current_progress(session, call.principal, path.id), 202)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/schedule",
    Doc(
        TAG,
        "Send at a moment in the future (scheduling again moves it)",
        "scheduleCampaign",
        requires=MARKETERS,
        errors=BAD_INPUT,
        notes=STATE_CONFLICT,
    ),
)
async def schedule_campaign(call: Call, path: CampaignId, body: ScheduleRequest) -> Campaign:
    hub = call.hub
    context = campaign_context(hub)
    async with hub.db.writer() as session:
        await drafting.get_campaign(session, call.principal, path.id)
        try:
            at = parse_moment(body.scheduled_at)
        except CampaignError as exc:
            raise exc.api_error() from None
        view = await engine(
            send_control.schedule(session, call.principal, context, path.id, at, hub.clock.now())
        )
        await session.commit()
    context.wake()
    return campaign_answer(view)


Move = Callable[[AsyncSession, Principal, int, Any], Awaitable[CampaignView]]


async def _move(call: Call, campaign_id: int, move: Move) -> Campaign:
    hub = call.hub
    async with hub.db.writer() as session:
        view = await engine(move(session, call.principal, campaign_id, hub.clock.now()))
        await session.commit()
    campaign_context(hub).wake()
    return campaign_answer(view)


def _state_doc(summary: str, operation: str) -> Doc:
    return Doc(
        TAG, summary, operation, requires=MARKETERS, errors=(401, 403, 404), notes=STATE_CONFLICT
    )


@endpoint(
    "POST", "/api/v1/campaigns/{id}/pause", _state_doc("Pause a sending campaign", "pauseCampaign")
)
async def pause_campaign(call: Call, path: CampaignId) -> Campaign:
    return await _move(call, path.id, send_control.pause)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/resume",
    _state_doc("Resume a paused campaign", "resumeCampaign"),
)
async def resume_campaign(call: Call, path: CampaignId) -> Campaign:
    return await _move(call, path.id, send_control.resume)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/cancel",
    _state_doc(
        "Cancel a scheduled, sending or paused campaign (queued recipients are not sent to)",
        "cancelCampaign",
    ),
)
async def cancel_campaign(call: Call, path: CampaignId) -> Campaign:
    return await _move(call, path.id, send_control.cancel)


Requeue = Callable[[AsyncSession, Principal, int, Any], Awaitable[int]]


async def _requeue(call: Call, campaign_id: int, requeue: Requeue) -> Requeued:
    hub = call.hub
    async with hub.db.writer() as session:
        count = await engine(requeue(session, call.principal, campaign_id, hub.clock.now()))
        await session.commit()
    campaign_context(hub).wake()
    async with hub.db.reader() as session:
        return Requeued(
            requeued=count, progress=await current_progress(session, call.principal, campaign_id)
        )


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/retry-failed",
    _state_doc("Queue the failed recipients again", "retryFailedRecipients"),
)
async def retry_failed(call: Call, path: CampaignId) -> Requeued:
    return await _requeue(call, path.id, retries.retry_failed)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/retry-unconfirmed",
    _state_doc(
        "Queue the unconfirmed recipients again (their send was in flight when a hub stopped; "
        "some may get the message twice)",
        "retryUnconfirmedRecipients",
    ),
)
async def retry_unconfirmed(call: Call, path: CampaignId) -> Requeued:
    return await _requeue(call, path.id, retries.retry_unconfirmed)


ENDPOINTS: tuple[Endpoint, ...] = (
    send_campaign,
    schedule_campaign,
    pause_campaign,
    resume_campaign,
    cancel_campaign,
    retry_failed,
    retry_unconfirmed,
)
