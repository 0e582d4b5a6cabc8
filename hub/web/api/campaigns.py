"""The campaign API (marketers and admins): drafts, checks, previews as a chosen customer, test
sends, send now or schedule, pause, resume, cancel, retries, progress, results and the
per-recipient CSV export. Every bad input is a 4xx naming its field (``segment_id``,
``scheduled_at``, ``content.email.html`` with the template's line…) and writes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import results as outcomes
from hub.campaigns import service
from hub.campaigns.service import CampaignDraft, CampaignError, CampaignView
from hub.core.authz import Principal
from hub.db.models import Role
from hub.web import campaign_texts as texts
from hub.web.api.edge import Call, Doc, Endpoint, Reply, Requires, endpoint
from hub.web.api.models.campaigns import (
    Activity,
    Campaign,
    CampaignChange,
    CampaignId,
    CampaignQuery,
    Campaigns,
    ChannelCounts,
    Check,
    Content,
    Counts,
    Listed,
    NewCampaign,
    Preview,
    PreviewRequest,
    Progress,
    Requeued,
    Results,
    ScheduleRequest,
    Sends,
    TestRequest,
    TestSent,
)
from hub.web.campaign_common import (
    campaign_context,
    counts_of,
    list_with_counts,
    parse_moment,
    stream_csv,
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


def progress_answer(found: service.Progress, total: outcomes.Counts) -> Progress:
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


async def _engine(action: Awaitable[T]) -> T:
    """The engine's answer, its ``CampaignError`` as the API error it names."""
    try:
        return await action
    except CampaignError as exc:
        raise exc.api_error() from None


async def current_progress(session: AsyncSession, principal: Principal, id_: int) -> Progress:
    found = await service.progress(session, principal, id_)
    return progress_answer(found, counts_of(found))


@endpoint(
    "GET",
    "/api/v1/campaigns",
    Doc(
        TAG,
        "Campaigns, newest first, each with its recipients per outcome",
        "listCampaigns",
        requires=MARKETERS,
        errors=(400, 401, 403),
    ),
)
async def list_campaigns(call: Call, query: CampaignQuery) -> Campaigns:
    async with call.hub.db.reader() as session:
        found = await list_with_counts(
            session, call.principal, state=query.state, limit=query.limit, offset=query.offset
        )
    return Campaigns(
        items=[
            Listed(
                campaign=campaign_answer(item.campaign),
                recipients=item.recipients,
                sent=item.sent,
                failed=item.failed,
                skipped=item.skipped,
                unconfirmed=item.unconfirmed,
                pending=item.pending,
            )
            for item in found
        ]
    )


@endpoint(
    "POST",
    "/api/v1/campaigns",
    Doc(
        TAG,
        "Write a new draft",
        "createCampaign",
        description="Every problem is named in fields (name, segment_id, fallback[1], "
        "content.email.html with the template's line); nothing is saved then.",
        requires=MARKETERS,
        ok={201: "The saved draft"},
        errors=(400, 401, 403, 422),
    ),
)
async def create_campaign(call: Call, body: NewCampaign) -> Reply[Campaign]:
    hub = call.hub
    draft = CampaignDraft(
        body.name, body.segment_id, content_of(body.content), tuple(body.fallback)
    )
    async with hub.db.writer() as session:
        view = await _engine(
            service.create_campaign(session, call.principal, draft, hub.clock.now())
        )
        await session.commit()
    return Reply(campaign_answer(view), 201)


@endpoint(
    "GET",
    "/api/v1/campaigns/{id}",
    Doc(TAG, "One campaign", "getCampaign", requires=MARKETERS, errors=(401, 403, 404)),
)
async def get_campaign(call: Call, path: CampaignId) -> Campaign:
    async with call.hub.db.reader() as session:
        return campaign_answer(await service.get_campaign(session, call.principal, path.id))


@endpoint(
    "PATCH",
    "/api/v1/campaigns/{id}",
    Doc(
        TAG,
        "Change a draft (or a scheduled campaign, which stays scheduled)",
        "updateCampaign",
        description="Left-out fields stay; content replaces the variants it names.",
        requires=MARKETERS,
        errors=BAD_INPUT,
        notes=STATE_CONFLICT,
    ),
)
async def update_campaign(call: Call, path: CampaignId, body: CampaignChange) -> Campaign:
    hub = call.hub
    async with hub.db.writer() as session:
        now = hub.clock.now()
        was = await service.get_campaign(session, call.principal, path.id)
        fields = body.model_fields_set
        content = dict(was.content) | content_of(body.content)
        draft = CampaignDraft(
            body.name if body.name is not None else was.name,
            body.segment_id if "segment_id" in fields else was.segment_id,
            content,
            tuple(body.fallback) if body.fallback is not None else was.fallback,
        )
        view = await _engine(service.update_campaign(session, call.principal, path.id, draft, now))
        await session.commit()
    return campaign_answer(view)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/check",
    Doc(
        TAG,
        "What stops the campaign being sent (segment, variants, templates with their line)",
        "checkCampaign",
        requires=MARKETERS,
        errors=(401, 403, 404),
    ),
)
async def check_campaign(call: Call, path: CampaignId) -> Check:
    hub = call.hub
    async with hub.db.reader() as session:
        await service.get_campaign(session, call.principal, path.id)
        problems = await service.check_sendable(
            session, campaign_context(hub), path.id, hub.clock.now()
        )
    return Check(sendable=not problems, problems=problems)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/preview",
    Doc(
        TAG,
        "The message on one channel as a chosen customer would get it",
        "previewCampaign",
        description="A sample customer when customer_id is left out; content previews unsaved "
        "text (the editor's live preview). A template error is a 422 naming the part and line.",
        requires=MARKETERS,
        errors=BAD_INPUT,
    ),
)
async def preview_campaign(call: Call, path: CampaignId, body: PreviewRequest) -> Preview:
    hub = call.hub
    async with hub.db.reader() as session:
        draft = None
        if body.content is not None:
            draft = CampaignDraft("", None, content_of(body.content))
        shown = await _engine(
            service.preview(
                session,
                call.principal,
                campaign_context(hub),
                path.id,
                body.channel,
                customer_id=body.customer_id,
                draft=draft,
                now=hub.clock.now(),
            )
        )
    return Preview(
        channel=shown.channel_kind,
        subject=shown.subject,
        html=shown.html,
        text=shown.text,
        headers=dict(shown.headers),
    )


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/test",
    Doc(
        TAG,
        "Send the email variant to your own address (subject marked [TEST])",
        "testCampaign",
        requires=MARKETERS,
        errors=BAD_INPUT,
    ),
)
async def test_campaign(call: Call, path: CampaignId, body: TestRequest) -> TestSent:
    hub = call.hub
    async with hub.db.reader() as session:
        result = await _engine(
            service.test_send(
                session,
                call.principal,
                campaign_context(hub),
                path.id,
                hub.clock.now(),
                address=body.address,
                customer_id=body.customer_id,
            )
        )
    return TestSent(
        ok=result.ok, address=result.address, channel=result.channel, error=result.error
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
        await _engine(service.send_now(session, call.principal, context, path.id, hub.clock.now()))
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
        await service.get_campaign(session, call.principal, path.id)
        try:
            at = parse_moment(body.scheduled_at)
        except CampaignError as exc:
            raise exc.api_error() from None
        view = await _engine(
            service.schedule(session, call.principal, context, path.id, at, hub.clock.now())
        )
        await session.commit()
    context.wake()
    return campaign_answer(view)


Move = Callable[[AsyncSession, Principal, int, Any], Awaitable[CampaignView]]


async def _move(call: Call, campaign_id: int, move: Move) -> Campaign:
    hub = call.hub
    async with hub.db.writer() as session:
        view = await _engine(move(session, call.principal, campaign_id, hub.clock.now()))
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
    return await _move(call, path.id, service.pause)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/resume",
    _state_doc("Resume a paused campaign", "resumeCampaign"),
)
async def resume_campaign(call: Call, path: CampaignId) -> Campaign:
    return await _move(call, path.id, service.resume)


@endpoint(
    "POST",
    "/api/v1/campaigns/{id}/cancel",
    _state_doc(
        "Cancel a scheduled, sending or paused campaign (queued recipients are not sent to)",
        "cancelCampaign",
    ),
)
async def cancel_campaign(call: Call, path: CampaignId) -> Campaign:
    return await _move(call, path.id, service.cancel)


Requeue = Callable[[AsyncSession, Principal, int, Any], Awaitable[int]]


async def _requeue(call: Call, campaign_id: int, requeue: Requeue) -> Requeued:
    hub = call.hub
    async with hub.db.writer() as session:
        count = await _engine(requeue(session, call.principal, campaign_id, hub.clock.now()))
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
    return await _requeue(call, path.id, service.retry_failed)


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
    return await _requeue(call, path.id, service.retry_unconfirmed)


@endpoint(
    "GET",
    "/api/v1/campaigns/{id}/progress",
    Doc(
        TAG,
        "Recipients per state, per skip reason and per channel; finished or not",
        "campaignProgress",
        requires=MARKETERS,
        errors=(401, 403, 404),
    ),
)
async def campaign_progress(call: Call, path: CampaignId) -> Progress:
    async with call.hub.db.reader() as session:
        return await current_progress(session, call.principal, path.id)


@endpoint(
    "GET",
    "/api/v1/campaigns/{id}/results",
    Doc(
        TAG,
        "Results per campaign and channel: sent, failed, skipped by reason, replied, "
        "unsubscribed, bounced, over time",
        "campaignResults",
        requires=MARKETERS,
        errors=(401, 403, 404),
    ),
)
async def campaign_results(call: Call, path: CampaignId) -> Results:
    async with call.hub.db.reader() as session:
        await service.get_campaign(session, call.principal, path.id)
        report = await outcomes.campaign_report(session, path.id)
    found = report.results
    return Results(
        campaign_id=path.id,
        finished=found.finished,
        explanation=found.explanation(),
        total=counts_answer(found.total),
        channels=[
            ChannelCounts(channel=c.channel, counts=counts_answer(c.counts)) for c in found.channels
        ],
        over_time=[Sends(start=b.start, channel=b.channel, sent=b.sent) for b in report.sends],
        activity=[
            Activity(
                start=b.start,
                sent=b.sent,
                replied=b.replied,
                unsubscribed=b.unsubscribed,
                bounced=b.bounced,
            )
            for b in report.activity
        ],
    )


@endpoint(
    "GET",
    "/api/v1/campaigns/{id}/export.csv",
    Doc(
        TAG,
        "Every recipient's outcome as CSV (streamed)",
        "exportCampaignRecipients",
        description="Columns: " + ", ".join(outcomes.CSV_COLUMNS) + ". Addresses are masked.",
        requires=MARKETERS,
        errors=(401, 403, 404),
        media="text/csv",
    ),
)
async def export_recipients(call: Call, path: CampaignId) -> web.StreamResponse:
    hub = call.hub
    async with hub.db.reader() as session:
        await service.get_campaign(session, call.principal, path.id)
        return await stream_csv(
            call.request, outcomes.export_csv(session, path.id), f"campaign-{path.id}.csv"
        )


ENDPOINTS: tuple[Endpoint, ...] = (
    list_campaigns,
    create_campaign,
    get_campaign,
    update_campaign,
    check_campaign,
    preview_campaign,
    test_campaign,
    send_campaign,
    schedule_campaign,
    pause_campaign,
    resume_campaign,
    cancel_campaign,
    retry_failed,
    retry_unconfirmed,
    campaign_progress,
    campaign_results,
    export_recipients,
)
