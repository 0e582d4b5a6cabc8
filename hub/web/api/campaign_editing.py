"""The campaign API for writing one (marketers and admins): list, create, open and change
drafts, check what stops a send, preview as a chosen customer, send a test to yourself. Every
bad input is a 4xx naming its field (``segment_id``, ``content.email.html`` with the
template's line…) and writes nothing."""

from __future__ import annotations

from hub.campaigns import drafting, previews
from hub.campaigns.views import CampaignDraft
from hub.web.api.campaign_answers import (
    BAD_INPUT,
    MARKETERS,
    STATE_CONFLICT,
    TAG,
    campaign_answer,
    content_of,
    engine,
)
from hub.web.api.edge import Call, Doc, Endpoint, Reply, endpoint
from hub.web.api.models.campaigns import (
    Campaign,
    CampaignChange,
    CampaignId,
    CampaignQuery,
    Campaigns,
    Check,
    Listed,
    NewCampaign,
    Preview,
    PreviewRequest,
    TestRequest,
    TestSent,
)
from hub.web.campaign_common import (
    campaign_context,
    list_with_counts,
)


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
        view = await engine(
            drafting.create_campaign(session, call.principal, draft, hub.clock.now())
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
        return campaign_answer(await drafting.get_campaign(session, call.principal, path.id))


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
        was = await drafting.get_campaign(session, call.principal, path.id)
        fields = body.model_fields_set
        content = dict(was.content) | content_of(body.content)
        draft = CampaignDraft(
            body.name if body.name is not None else was.name,
            body.segment_id if "segment_id" in fields else was.segment_id,
            content,
            tuple(body.fallback) if body.fallback is not None else was.fallback,
        )
        view = await engine(drafting.update_campaign(session, call.principal, path.id, draft, now))
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
        await drafting.get_campaign(session, call.principal, path.id)
        problems = await drafting.check_sendable(
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
        shown = await engine(
            previews.preview(
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
        result = await engine(
            previews.test_send(
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


ENDPOINTS: tuple[Endpoint, ...] = (
    list_campaigns,
    create_campaign,
    get_campaign,
    update_campaign,
    check_campaign,
    preview_campaign,
    test_campaign,
)
