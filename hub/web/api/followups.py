"""Follow-up templates (admins save per channel and locale; preview renders sample data and a
template that does not render is refused with the error), the FAQ bot's knowledge base, and
the public satisfaction link."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import select

from hub.admin.templates import TemplateRefused, save_variant
from hub.core.errors import CSAT_BAD_LINK, CSAT_THANKS, forbidden, not_found, template_error
from hub.db.models import Conversation, ConversationStatus, Role
from hub.db.routing_models import FaqEntry
from hub.outbound.templates import Source
from hub.routing import csat
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models import followups as shapes
from hub.web.api.models.followups import (
    FaqEntries,
    FaqId,
    NewFaq,
    Rendered,
    SavedTemplate,
    TemplateName,
    TemplateSource,
)
from hub.web.keys import hub_of
from hub.web.requests import row_id

TAG = "Routing"


def _admin(call: Call) -> int:
    if call.principal.role != Role.ADMIN:
        raise forbidden("edit follow-up templates or the FAQ")
    return call.principal.agent_id


def _source(body: TemplateSource) -> Source:
    return Source("", body.channel, body.locale)


@endpoint(
    "POST",
    "/api/v1/routing/templates/{name}/preview",
    Doc(
        TAG,
        "Render a template with sample data without saving it (admins)",
        "previewFollowupTemplate",
        ok={200: "The rendering"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def preview_template(call: Call, path: TemplateName, body: TemplateSource) -> Rendered:
    _admin(call)
    assert call.hub.routing is not None
    renderer = call.hub.routing.engine.templates
    problem = renderer.problem(body.parts(), path.name, _source(body))
    if problem is not None:
        raise template_error(str(problem))
    rendered = renderer.check(body.parts(), path.name, _source(body))
    return Rendered(subject=rendered.subject, text=rendered.text, html=rendered.html)


@endpoint(
    "PUT",
    "/api/v1/routing/templates/{name}",
    Doc(
        TAG,
        "Save a follow-up template variant for a channel and locale (admins)",
        "putFollowupTemplate",
        description="A template that does not render is refused (422, code "
        "template_error) and not saved.",
        ok={200: "Saved"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def put_template(call: Call, path: TemplateName, body: TemplateSource) -> SavedTemplate:
    """Save a template variant; refused (422, with the error) if it does not render."""
    hub, name, source, parts = call.hub, path.name, _source(body), body.parts()
    agent_id = _admin(call)
    assert hub.routing is not None
    try:
        async with hub.db.writer() as session:
            await save_variant(
                session,
                hub.routing.engine.templates,
                name,
                source,
                parts,
                agent_id,
                hub.clock.now(),
            )
            await session.commit()
    except TemplateRefused as exc:
        raise template_error(str(exc.problem)) from None
    return SavedTemplate.model_validate(
        {"name": name, "channel": source.channel, "locale": source.locale, "parts": sorted(parts)}
    )


@endpoint(
    "GET",
    "/api/v1/routing/faq",
    Doc(TAG, "The FAQ bot's knowledge base", "listFaq", ok={200: "The entries"}, errors=(401,)),
)
async def list_faq(call: Call) -> FaqEntries:
    async with call.hub.db.reader() as session:
        rows = (await session.scalars(select(FaqEntry).order_by(FaqEntry.id))).all()
    return FaqEntries(items=[shapes.FaqEntry.model_validate(e) for e in rows])


@endpoint(
    "POST",
    "/api/v1/routing/faq",
    Doc(
        TAG,
        "Add a FAQ entry (admins)",
        "addFaq",
        ok={201: "The entry"},
        errors=(400, 401, 403, 413, 422),
    ),
)
async def add_faq(call: Call, body: NewFaq) -> shapes.FaqEntry:
    _admin(call)
    hub = call.hub
    async with hub.db.writer() as session:
        entry = FaqEntry(
            question=body.question,
            answer=body.answer,
            locale=body.locale,
            created_at=hub.clock.now(),
        )
        session.add(entry)
        await session.commit()
        return shapes.FaqEntry.model_validate(entry)


@endpoint(
    "DELETE",
    "/api/v1/routing/faq/{id}",
    Doc(
        TAG,
        "Delete a FAQ entry (admins)",
        "deleteFaq",
        ok={204: "Deleted"},
        errors=(401, 403, 404),
        media=None,
    ),
)
async def delete_faq(call: Call, path: FaqId) -> None:
    _admin(call)
    async with call.hub.db.writer() as session:
        entry = await session.get(FaqEntry, path.id)
        if entry is None:
            raise not_found("FAQ entry", call.request.match_info["id"])
        await session.delete(entry)
        await session.commit()


async def csat_link(request: web.Request) -> web.Response:
    """The link in a satisfaction survey: signed per conversation, score in the path."""
    hub = hub_of(request)
    raw_id, raw_score = request.match_info["id"], request.match_info["score"]
    signature = request.query.get("sig", "")
    ident = row_id(raw_id)
    valid = ident is not None and raw_score in {"1", "2", "3", "4", "5"}
    if ident is None or not valid or not csat.verify(hub.settings.secret_key, ident, signature):
        return web.Response(status=404, text=CSAT_BAD_LINK)
    async with hub.db.writer() as session:
        conversation = await session.get(Conversation, ident)
        if conversation is None or conversation.status != ConversationStatus.RESOLVED:
            return web.Response(status=404, text=CSAT_BAD_LINK)
        now = hub.clock.now()
        await csat.record(session, conversation.id, int(raw_score), "link", now)
        await hub.reports.csat_answer(session, conversation, int(raw_score), now)
        await session.commit()
    return web.Response(text=CSAT_THANKS.format(score=raw_score))


ENDPOINTS: tuple[Endpoint, ...] = (
    put_template,
    preview_template,
    list_faq,
    add_faq,
    delete_faq,
)


def add_routes(router: web.UrlDispatcher) -> None:
    """The public satisfaction link (not part of the API)."""
    router.add_get("/csat/{id}/{score}", csat_link)
