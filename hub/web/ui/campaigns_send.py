"""The marketer's campaign pages, part two: the send and schedule confirmation ("Send to 12,345
people?"), the campaign page with its live progress (a small JSON document the page polls every
second), pause, resume, cancel, the retries, and the results (chart and table, skips by reason,
replies, unsubscribes, bounces, the CSV export). The page says when and why a campaign is
finished: sent + failed + skipped + unconfirmed (+ cancelled) = recipients."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from hub.campaigns import drafting, retries, send_control
from hub.campaigns import results as outcomes
from hub.campaigns import segments as audience
from hub.campaigns import texts as engine_texts
from hub.campaigns.views import CampaignError, CampaignView
from hub.core.authz import Principal
from hub.core.customer_filters import FilterError, parse_filter
from hub.core.errors import ApiError
from hub.web import campaign_texts as texts
from hub.web.campaign_common import campaign_context, parse_moment, state_counts, stream_csv
from hub.web.keys import hub_of
from hub.web.ui.campaigns import campaign_id, editor, marketer, notice
from hub.web.ui.render import page, render, see_other

ACTIONS = {
    "sending": ("pause", "cancel"),
    "paused": ("resume", "cancel"),
    "scheduled": ("edit", "cancel"),
}


def actions_of(state: str, counts: outcomes.Counts) -> list[str]:
    """What the campaign page offers in this state."""
    found = list(ACTIONS.get(state, ()))
    if state in ("sending", "paused", "finished"):
        if counts.failed:
            found.append("retry-failed")
        if counts.unconfirmed:
            found.append("retry-unconfirmed")
    return found


def progress_document(view: CampaignView, counts: outcomes.Counts) -> dict[str, Any]:
    """What the campaign page polls: state, counts and whether (and why) it is finished."""
    done = view.state in ("finished", "cancelled")
    return {
        "state": view.state,
        "state_label": texts.STATE_LABELS.get(view.state, view.state),
        "recipients": counts.recipients,
        "counts": {
            "queued": counts.queued,
            "sending": counts.sending,
            "sent": counts.sent,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "unconfirmed": counts.unconfirmed,
            "cancelled": counts.cancelled,
        },
        "accounted": counts.accounted,
        "percent": round(100 * counts.accounted / counts.recipients) if counts.recipients else 0,
        "finished": done and counts.finished,
        "explanation": counts.explanation() if counts.recipients else texts.NOT_SENT_YET,
        "why": why_finished(view),
        "actions": actions_of(view.state, counts),
    }


def why_finished(view: CampaignView) -> str:
    template = texts.WHY_FINISHED.get(view.state)
    if template is None:
        return ""
    when = view.finished_at.strftime("%Y-%m-%d %H:%M UTC") if view.finished_at else ""
    return template.format(when=when)


async def _results_context(session: AsyncSession, campaign: int) -> dict[str, Any]:
    report = await outcomes.campaign_report(session, campaign)
    return {
        "results": report.results,
        "series": report.sends,
        "activity": report.activity,
        "chart": report.sends_chart(),
        "activity_chart": report.activity_chart(),
        "reasons": engine_texts.SKIP_REASONS,
    }


async def overview(request: web.Request, view: CampaignView) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        context = await _results_context(session, view.id)
    counts = context["results"].total
    return page(
        request,
        "ui/campaign.html",
        campaign=view,
        progress=progress_document(view, counts),
        texts=texts,
        notice=notice(request),
        **context,
    )


async def show(request: web.Request) -> web.StreamResponse:
    """A draft opens in the editor; anything else on its progress and results page."""
    hub, viewer = hub_of(request), marketer(request)
    async with hub.db.reader() as session:
        view = await drafting.get_campaign(session, viewer.principal, campaign_id(request))
    if view.state == "draft":
        return await editor(request, view)
    return await overview(request, view)


async def progress_json(request: web.Request) -> web.Response:
    """Polled every second by each open campaign page: one grouped query."""
    hub, viewer = hub_of(request), marketer(request)
    async with hub.db.reader() as session:
        view = await drafting.get_campaign(session, viewer.principal, campaign_id(request))
        counts = await state_counts(session, view.id)
    response = web.json_response(progress_document(view, counts))
    response.headers["Cache-Control"] = "no-store"
    return response


async def results_fragment(request: web.Request) -> web.Response:
    """The results section alone, swapped in by the page when the send finishes."""
    hub, viewer = hub_of(request), marketer(request)
    async with hub.db.reader() as session:
        view = await drafting.get_campaign(session, viewer.principal, campaign_id(request))
        context = await _results_context(session, view.id)
    html = render(request, "ui/_campaign_results.html", campaign=view, texts=texts, **context)
    return web.Response(text=html, content_type="text/html")


async def _audience_size(
    session: AsyncSession, view: CampaignView, now: datetime
) -> tuple[str, int]:
    if view.segment_id is None:
        return "", 0
    try:
        segment = await audience.get_segment(session, view.segment_id)
        count = await audience.count_of(session, parse_filter(audience.with_static(segment)), now)
    except (ApiError, FilterError):
        return "", 0
    return segment.name, count


async def confirm(request: web.Request) -> web.StreamResponse:
    """The confirmation step: the recipient count, what is wrong if it cannot be sent, and one
    button (send now, or schedule for the chosen moment)."""
    hub, viewer = hub_of(request), marketer(request)
    now = hub.clock.now()
    ident = campaign_id(request)
    problems: dict[str, str] = {}
    at: datetime | None = None
    raw_at = request.query.get("scheduled_at")
    async with hub.db.reader() as session:
        view = await drafting.get_campaign(session, viewer.principal, ident)
        if view.state not in ("draft", "scheduled"):
            see_other(f"/ui/campaigns/{ident}")
        if raw_at is not None:
            try:
                at = parse_moment(raw_at, offset_minutes=request.query.get("tz_offset") or "0")
                if at <= now:
                    problems["scheduled_at"] = engine_texts.NOT_SCHEDULABLE
            except CampaignError as exc:
                problems.update(exc.fields)
        problems.update(await drafting.check_sendable(session, campaign_context(hub), ident, now))
        segment_name, size = await _audience_size(session, view, now)
    return page(
        request,
        "ui/campaign_confirm.html",
        status=422 if problems else 200,
        campaign=view,
        problems=problems,
        at=at,
        segment_name=segment_name,
        size=size,
        texts=texts,
    )


async def send(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), marketer(request)
    ident = campaign_id(request)
    context = campaign_context(hub)
    async with hub.db.writer() as session:
        try:
            await send_control.send_now(session, viewer.principal, context, ident, hub.clock.now())
        except CampaignError as exc:
            raise exc.api_error() from None
        await session.commit()
    context.wake()
    see_other(f"/ui/campaigns/{ident}", "sending")


async def schedule(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), marketer(request)
    ident = campaign_id(request)
    posted = await request.post()
    context = campaign_context(hub)
    async with hub.db.writer() as session:
        try:
            at = parse_moment(str(posted.get("scheduled_at", "")))
            await send_control.schedule(
                session, viewer.principal, context, ident, at, hub.clock.now()
            )
        except CampaignError as exc:
            raise exc.api_error() from None
        await session.commit()
    context.wake()
    see_other(f"/ui/campaigns/{ident}", "scheduled")


Step = Callable[[AsyncSession, Principal, int, datetime], Awaitable[Any]]
STEPS: dict[str, tuple[Step, str]] = {
    "pause": (send_control.pause, "paused"),
    "resume": (send_control.resume, "resumed"),
    "cancel": (send_control.cancel, "cancelled"),
    "retry-failed": (retries.retry_failed, "retried"),
    "retry-unconfirmed": (retries.retry_unconfirmed, "retried"),
}


async def act(request: web.Request) -> web.StreamResponse:
    """Pause, resume, cancel or a retry; back to the campaign page with a notice."""
    hub, viewer = hub_of(request), marketer(request)
    ident = campaign_id(request)
    step, done = STEPS[request.match_info["action"]]
    async with hub.db.writer() as session:
        try:
            result = await step(session, viewer.principal, ident, hub.clock.now())
        except CampaignError as exc:
            raise exc.api_error() from None
        await session.commit()
    campaign_context(hub).wake()
    if isinstance(result, int) and result == 0:
        done = "nothing"
    see_other(f"/ui/campaigns/{ident}", done)


async def export(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), marketer(request)
    ident = campaign_id(request)
    async with hub.db.reader() as session:
        await drafting.get_campaign(session, viewer.principal, ident)
        return await stream_csv(
            request, outcomes.export_csv(session, ident), f"campaign-{ident}.csv"
        )


def add_routes(router: web.UrlDispatcher) -> None:
    one = r"/ui/campaigns/{id:\d{1,12}}"
    router.add_get(one, show)
    router.add_get(one + "/confirm", confirm)
    router.add_post(one + "/send", send)
    router.add_post(one + "/schedule", schedule)
    router.add_post(one + "/{action:pause|resume|cancel|retry-failed|retry-unconfirmed}", act)
    router.add_get(one + "/progress.json", progress_json)
    router.add_get(one + "/results", results_fragment)
    router.add_get(one + "/export.csv", export)
