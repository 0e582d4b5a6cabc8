"""The marketer's campaign pages, part one: the list, a new draft, and the editor (name, saved
segment with its live count, fallback order, the email and chat variants, the live preview as a
chosen customer on each channel, template errors inline with their line, a test send to the
marketer's own address). Sending, progress and results: campaigns_send.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import drafting, previews, views
from hub.campaigns import segments as audience
from hub.campaigns.views import CampaignDraft, CampaignError, CampaignView
from hub.core.customer_filters import FilterError, parse_filter
from hub.core.errors import ApiError
from hub.web import campaign_texts as texts
from hub.web.campaign_common import campaign_context, list_with_counts
from hub.web.keys import hub_of
from hub.web.requests import row_id
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import Viewer, viewer_of

KINDS = ("email", "telegram", "slack", "web")
PARTS = ("content.email.subject", "content.email.html", "content.email.text", "content.chat.text")
SAMPLE = 20
BUDGET = 1.0  # seconds the pages spend counting segments


def marketer(request: web.Request) -> Viewer:
    """The signed-in marketer or admin; anybody else gets the 403 page with a way home."""
    viewer = viewer_of(request)
    views.authorize(viewer.principal)
    return viewer


def campaign_id(request: web.Request) -> int:
    return int(request.match_info["id"])


def notice(request: web.Request) -> str | None:
    return texts.NOTICES.get(request.query.get("notice", ""))


def draft_of(posted: MultiDictProxy[Any]) -> CampaignDraft:
    """The editor's form as a draft: a variant only when one of its parts has text."""
    raw_segment = str(posted.get("segment_id", "")).strip()
    segment_id = row_id(raw_segment)
    fallback = tuple(str(v) for v in posted.getall("fallback", []) if str(v).strip())
    email = {
        part: str(posted.get(f"content.email.{part}", "")) for part in ("subject", "html", "text")
    }
    chat = {"text": str(posted.get("content.chat.text", ""))}
    content: dict[str, dict[str, str]] = {}
    if any(value.strip() for value in email.values()):
        content["email"] = email
    if chat["text"].strip():
        content["chat"] = chat
    return CampaignDraft(str(posted.get("name", ""))[:400], segment_id, content, fallback)


async def segment_choices(session: AsyncSession, now: Any) -> list[audience.SegmentSummary]:
    """The saved segments, counted within a second (the page counts the rest on demand)."""
    return await audience.list_segments(session, now, budget=BUDGET)


async def members_of(
    session: AsyncSession, segment_id: int | None, now: Any
) -> list[audience.Member]:
    """The first members of a segment: the customers the preview can be shown as."""
    if segment_id is None:
        return []
    try:
        segment = await audience.get_segment(session, segment_id)
        tree = parse_filter(audience.with_static(segment))
    except (FilterError, ApiError):  # an unknown or broken segment has no sample
        return []
    return list(await audience.sample_of(session, tree, now, SAMPLE))


async def show_list(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), marketer(request)
    state = request.query.get("state") or None
    if state not in (None, *texts.STATE_LABELS):
        state = None
    async with hub.db.reader() as session:
        rows = await list_with_counts(session, viewer.principal, state=state)
        choices = await segment_choices(session, hub.clock.now())
    return page(
        request,
        "ui/campaigns.html",
        rows=rows,
        state=state,
        states=texts.STATE_LABELS,
        segments=choices,
        texts=texts,
        notice=notice(request),
    )


async def create(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), marketer(request)
    posted = await request.post()
    draft = draft_of(posted)
    async with hub.db.writer() as session:
        try:
            view = await drafting.create_campaign(session, viewer.principal, draft, hub.clock.now())
        except CampaignError as exc:
            rows = await list_with_counts(session, viewer.principal)
            choices = await segment_choices(session, hub.clock.now())
            return page(
                request,
                "ui/campaigns.html",
                status=422,
                rows=rows,
                state=None,
                states=texts.STATE_LABELS,
                segments=choices,
                texts=texts,
                errors=exc.fields,
                form=draft,
            )
        await session.commit()
    see_other(f"/ui/campaigns/{view.id}/edit", "created")


async def editor(
    request: web.Request,
    view: CampaignView,
    *,
    draft: CampaignDraft | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    now = hub.clock.now()
    shown = draft or CampaignDraft(view.name, view.segment_id, view.content, view.fallback)
    async with hub.db.reader() as session:
        choices = await segment_choices(session, now)
        members = await members_of(session, shown.segment_id, now)
    fallback = list(shown.fallback) + [""] * (len(KINDS) - len(shown.fallback))
    return page(
        request,
        "ui/campaign_edit.html",
        status=status,
        campaign=view,
        form=shown,
        fallback=fallback[: len(KINDS)],
        kinds=KINDS,
        segments=choices,
        members=members,
        errors=errors or {},
        texts=texts,
        notice=notice(request),
    )


async def edit(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), marketer(request)
    async with hub.db.reader() as session:
        view = await drafting.get_campaign(session, viewer.principal, campaign_id(request))
    if view.state not in ("draft", "scheduled"):
        see_other(f"/ui/campaigns/{view.id}")
    return await editor(request, view)


async def save(request: web.Request) -> web.StreamResponse:
    """Save the draft, then what the pressed button asked: stay, send a test, or go on to the
    send or schedule confirmation."""
    hub, viewer = hub_of(request), marketer(request)
    posted = await request.post()
    draft = draft_of(posted)
    then = str(posted.get("then", "save"))
    ident = campaign_id(request)
    async with hub.db.writer() as session:
        view = await drafting.get_campaign(session, viewer.principal, ident)
        try:
            view = await drafting.update_campaign(
                session, viewer.principal, ident, draft, hub.clock.now()
            )
        except CampaignError as exc:
            return await editor(request, view, draft=draft, errors=exc.fields, status=exc.status)
        await session.commit()
    if then == "test":
        raw = str(posted.get("preview_customer", ""))
        customer = row_id(raw)
        return await _test(request, viewer, view, customer)
    if then in ("send", "schedule"):
        query = ""
        if then == "schedule":
            query = "?" + urlencode(
                {
                    "scheduled_at": str(posted.get("scheduled_at", "")),
                    "tz_offset": str(posted.get("tz_offset", "")),
                }
            )
        raise web.HTTPSeeOther(f"/ui/campaigns/{ident}/confirm{query}")
    see_other(f"/ui/campaigns/{ident}/edit", "saved")


async def _test(
    request: web.Request, viewer: Viewer, view: CampaignView, customer: int | None
) -> web.StreamResponse:
    """The email variant to the marketer's own address, as the customer the preview shows."""
    hub = hub_of(request)
    async with hub.db.reader() as session:
        try:
            result = await previews.test_send(
                session,
                viewer.principal,
                campaign_context(hub),
                view.id,
                hub.clock.now(),
                customer_id=customer,
            )
        except CampaignError as exc:
            return await editor(request, view, errors=exc.fields, status=exc.status)
    if not result.ok:
        errors = {"test": f"{texts.NOTICES['test_failed']} {result.error or ''}".strip()}
        return await editor(request, view, errors=errors, status=502)
    see_other(f"/ui/campaigns/{view.id}/edit", "test")


async def live_preview(request: web.Request) -> web.Response:
    """The editor's live preview (its script posts the unsaved form): JSON of the message on
    the chosen channel as the chosen customer, or the template errors by field."""
    hub, viewer = hub_of(request), marketer(request)
    posted = await request.post()
    draft = draft_of(posted)
    channel = str(posted.get("channel", "email"))
    raw_customer = str(posted.get("customer_id", ""))
    customer = row_id(raw_customer)
    async with hub.db.reader() as session:
        try:
            shown = await previews.preview(
                session,
                viewer.principal,
                campaign_context(hub),
                campaign_id(request),
                channel,
                customer_id=customer,
                draft=draft,
                now=hub.clock.now(),
            )
        except CampaignError as exc:
            return web.json_response(exc.api_error().body(), status=exc.status)
    return web.json_response(
        {
            "channel": shown.channel_kind,
            "subject": shown.subject,
            "html": shown.html,
            "text": shown.text,
        }
    )


async def segment_count(request: web.Request) -> web.Response:
    """A segment's live count and its first members (the editor's picker)."""
    hub, _viewer = hub_of(request), marketer(request)
    raw = request.match_info["segment"]
    now = hub.clock.now()
    async with hub.db.reader() as session:
        segment = await audience.get_segment(session, int(raw))
        summary = await audience.summary_of(session, segment, now)
        members = await members_of(session, segment.id, now)
    return web.json_response(
        {
            "id": summary.id,
            "count": summary.count or 0,
            "count_text": texts.people(summary.count or 0),
            "members": [{"id": m.id, "name": m.name or f"#{m.id}"} for m in members],
        }
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/campaigns", show_list)
    router.add_post("/ui/campaigns", create)
    router.add_get(r"/ui/campaigns/segments/{segment:\d{1,12}}", segment_count)
    router.add_get(r"/ui/campaigns/{id:\d{1,12}}/edit", edit)
    router.add_post(r"/ui/campaigns/{id:\d{1,12}}", save)
    router.add_post(r"/ui/campaigns/{id:\d{1,12}}/preview", live_preview)
