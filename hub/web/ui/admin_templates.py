"""/ui/admin/templates: acknowledgements, follow-ups and the satisfaction survey per channel and
locale, edited beside a live preview rendered in the sandboxed Jinja2 environment with sample
data (admin.js asks for it as the admin types; without JavaScript the Preview button does); a
template that does not render shows its error with the part and line, and is not saved. Canned
responses are listed and edited here as well, with their variables filled from sample data."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from sqlalchemy import select

from hub.admin.templates import TemplateRefused, catalog, load_variant, save_variant
from hub.core.audit import record_change
from hub.core.errors import not_found
from hub.db.inbox_models import CannedResponse
from hub.outbound.templates import PARTS, Source, TemplateProblem
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.admin_forms import admin_only, posted
from hub.web.ui.canned import fill
from hub.web.ui.render import page, see_other, wants_json
from hub.web.ui.viewer import viewer_of

BASE = "/ui/admin/templates"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
LOCALE = re.compile(r"^([a-z]{2,3})?$")
MAX_SOURCE = 64 * 1024
CANNED_SAMPLE = {
    "customer": {"name": "Jane Cooper", "first_name": "Jane", "company": "Acme", "tier": "gold"},
    "agent": {"name": "Alice Agent"},
    "ticket": {"number": "1042"},
}


def _renderer(request: web.Request) -> Any:
    hub = hub_of(request)
    assert hub.routing is not None
    return hub.routing.engine.templates


async def list_page(request: web.Request) -> web.Response:
    admin_only(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        templates = await catalog(session, hub.settings.templates_dir)
        canned = (
            await session.scalars(select(CannedResponse).order_by(CannedResponse.shortcut))
        ).all()
    return page(request, "ui/admin/templates.html", templates=templates, canned=canned)


def _variant(request: web.Request, values: dict[str, str]) -> tuple[str, Source]:
    name = request.match_info["name"]
    channel = values.get("channel", "")
    locale = values.get("locale", "").strip().lower()
    if not NAME.match(name) or channel not in ("", *hub_of(request).settings.channels):
        raise not_found("template", name[:100])
    if not LOCALE.match(locale):
        locale = ""
    return name, Source(name, channel, locale)


async def _editor(
    request: web.Request,
    name: str,
    source: Source,
    parts: dict[str, str] | None = None,
    *,
    problem: TemplateProblem | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    saved = False
    if parts is None:
        async with hub.db.reader() as session:
            parts, saved = await load_variant(
                session, hub.settings.templates_dir, name, source.channel, source.locale
            )
    renderer = _renderer(request)
    problem = problem or renderer.problem(parts, name, source)
    preview = None if problem else renderer.check(parts, name, source)
    return page(
        request,
        "ui/admin/template_edit.html",
        status=status,
        name=name,
        source=source,
        parts=parts,
        saved=saved,
        problem=problem,
        preview=preview,
        channels=sorted(hub.settings.channels),
        part_labels={"subject": "Subject", "txt": "Plain text", "html": "HTML (optional)"},
    )


async def edit_page(request: web.Request) -> web.Response:
    admin_only(request)
    name, source = _variant(request, dict(request.query))
    return await _editor(request, name, source)


def _parts(form: dict[str, str]) -> dict[str, str]:
    return {
        part: form[part].replace("\r\n", "\n")[:MAX_SOURCE]
        for part in PARTS
        if form.get(part, "").strip()
    }


async def preview(request: web.Request) -> web.Response:
    """The rendering of the posted drafts: JSON for admin.js, else the editor again."""
    admin_only(request)
    form = await posted(request)
    name, source = _variant(request, form)
    parts = _parts(form)
    renderer = _renderer(request)
    problem = renderer.problem(parts, name, source)
    if not wants_json(request):
        return await _editor(request, name, source, parts, problem=problem)
    if problem is not None:
        return web.json_response(
            {"error": str(problem), "part": problem.part, "line": problem.line}
        )
    rendered = renderer.check(parts, name, source)
    return web.json_response(
        {"subject": rendered.subject, "text": rendered.text, "html": rendered.html or ""}
    )


async def save(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    form = await posted(request)
    name, source = _variant(request, form)
    if form.get("action") == "preview":
        return await preview(request)
    parts = _parts(form)
    hub = hub_of(request)
    try:
        async with hub.db.writer() as session:
            await save_variant(
                session,
                _renderer(request),
                name,
                source,
                parts,
                viewer_of(request).agent_id,
                hub.clock.now(),
            )
            await session.commit()
    except TemplateRefused as exc:
        return await _editor(request, name, source, parts, problem=exc.problem, status=422)
    query = f"?channel={source.channel}&locale={source.locale}"
    see_other(f"{BASE}/{name}{query}", "admin_saved")


async def canned_page(request: web.Request) -> web.Response:
    admin_only(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        item = await session.get(CannedResponse, path_id(request, "canned response"))
    if item is None:
        raise not_found("canned response", request.match_info["id"])
    return page(
        request,
        "ui/admin/canned_edit.html",
        item=item,
        title=item.title,
        body=item.body,
        preview=fill(item.body, CANNED_SAMPLE),
        error=None,
    )


async def canned_save(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    hub = hub_of(request)
    form = await posted(request)
    title, body = form.get("title", "").strip(), form.get("body", "").replace("\r\n", "\n")
    error = None
    if not title or len(title) > 200:
        error = "title: is required (200 characters at most)"
    elif not body.strip() or len(body) > 20_000:
        error = "body: is required (20000 characters at most)"
    if wants_json(request):  # the live preview
        return web.json_response({"text": fill(body, CANNED_SAMPLE), "error": error or ""})
    async with hub.db.writer() as session:
        item = await session.get(CannedResponse, path_id(request, "canned response"))
        if item is None:
            raise not_found("canned response", request.match_info["id"])
        if error or form.get("action") == "preview":
            return page(
                request,
                "ui/admin/canned_edit.html",
                status=422 if error else 200,
                item=item,
                title=title,
                body=body,
                preview=fill(body, CANNED_SAMPLE),
                error=error,
            )
        old = {"title": item.title, "body": item.body}
        item.title, item.body = title, body
        await record_change(
            session,
            actor_id=viewer_of(request).agent_id,
            area="templates",
            action="change",
            target=f"canned response /{item.shortcut}",
            old=old,
            new={"title": title, "body": body},
            at=hub.clock.now(),
        )
        await session.commit()
    see_other(BASE, "admin_saved")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, list_page)
    router.add_get(f"{BASE}/canned/{{id}}", canned_page)
    router.add_post(f"{BASE}/canned/{{id}}", canned_save)
    router.add_get(f"{BASE}/{{name}}", edit_page)
    router.add_post(f"{BASE}/{{name}}", save)
    router.add_post(f"{BASE}/{{name}}/preview", preview)
