"""The campaign API for following one (marketers and admins): progress while it sends, results
per channel and over time, and every recipient's outcome as a streamed CSV export."""

from __future__ import annotations

from aiohttp import web

from hub.campaigns import drafting
from hub.campaigns import results as outcomes
from hub.web.api.campaign_answers import (
    MARKETERS,
    TAG,
    counts_answer,
    current_progress,
)
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models.campaigns import (
    Activity,
    CampaignId,
    ChannelCounts,
    Progress,
    Results,
    Sends,
)
from hub.web.campaign_common import (
    stream_csv,
)


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
        await drafting.get_campaign(session, call.principal, path.id)
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
        await drafting.get_campaign(session, call.principal, path.id)
        return await stream_csv(
            call.request, outcomes.export_csv(session, path.id), f"campaign-{path.id}.csv"
        )


ENDPOINTS: tuple[Endpoint, ...] = (campaign_progress, campaign_results, export_recipients)
