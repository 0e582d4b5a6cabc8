"""The marketer's audience pages: saved segments with their live counts, the segment editor
(rows of field / operator / value in ALL or ANY groups, built by segments.js into the JSON
definition, with a live count and sample), and the CSV import with its per-row error table.
Marketers and admins only; everyone else gets a 403 page that says so."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.campaigns import audience_texts as texts
from hub.campaigns import segments as audience
from hub.campaigns.customer_import import (
    MAX_BYTES,
    ImportRejected,
    ImportResult,
    RowProblem,
    import_customers,
    tiers_of,
)
from hub.core.errors import ApiError, forbidden
from hub.db.campaign_models import Segment
from hub.db.models import Role
from hub.web.csv_body import read_csv_body
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.render import page, see_other, wants_json
from hub.web.ui.segment_fields import catalog
from hub.web.ui.viewer import viewer_of

MAX_DEFINITION = 64 * 1024
LIST_BUDGET = 1.5  # seconds of counting before the list page leaves the rest to its script
EXAMPLE = {"all": [{"field": "tag", "op": "has", "value": "vip"}]}


def _marketer(request: web.Request) -> None:
    if viewer_of(request).role not in (Role.MARKETER, Role.ADMIN):
        raise forbidden(texts.MARKETERS_ONLY)


async def list_page(request: web.Request) -> web.Response:
    _marketer(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        found = await audience.list_segments(session, hub.clock.now(), budget=LIST_BUDGET)
    return page(request, "ui/segments.html", segments=found)


async def count(request: web.Request) -> web.Response:
    """One segment's live count (the list page asks for those it had no time to count)."""
    _marketer(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        segment = await audience.get_segment(session, path_id(request, "segment"))
        summary = await audience.summary_of(session, segment, hub.clock.now(), 0)
    return web.json_response({"id": summary.id, "count": summary.count})


async def _editor(
    request: web.Request,
    segment: Segment | None,
    *,
    name: str = "",
    description: str = "",
    definition: str = "",
    error: ApiError | None = None,
    result: ImportResult | None = None,
    problems: tuple[RowProblem, ...] = (),
    import_error: ApiError | None = None,
    status: int = 200,
) -> web.Response:
    hub = hub_of(request)
    async with hub.db.reader() as session:
        others = [
            (row.id, row.name)
            for row in await session.execute(
                select(Segment.id, Segment.name).order_by(Segment.name)
            )
        ]
        summary = await audience.summary_of(session, segment, hub.clock.now()) if segment else None
    return page(
        request,
        "ui/segment_edit.html",
        status=status,
        segment=summary,
        name=name or (segment.name if segment else ""),
        description=description or (segment.description if segment else ""),
        definition=definition
        or json.dumps(segment.definition if segment else EXAMPLE, indent=2, ensure_ascii=False),
        fields=catalog(tiers_of(hub.settings), others),
        error=error,
        result=result,
        problems=problems,
        import_error=import_error,
        max_kb=MAX_BYTES // 1024,
    )


async def new_page(request: web.Request) -> web.Response:
    _marketer(request)
    return await _editor(request, None)


async def edit_page(request: web.Request) -> web.Response:
    _marketer(request)
    hub = hub_of(request)
    async with hub.db.reader() as session:
        segment = await audience.get_segment(session, path_id(request, "segment"))
    return await _editor(request, segment)


def _definition(raw: str) -> Any:
    if len(raw) > MAX_DEFINITION:
        raise texts.segment_invalid("definition", f"is longer than {MAX_DEFINITION} characters")
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise texts.segment_invalid("definition", f"is not valid JSON: {exc}") from None


async def save(request: web.Request) -> web.StreamResponse:
    """Create (``/ui/segments``) or save (``/ui/segments/{id}``) from the editor's form."""
    _marketer(request)
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    name = str(posted.get("name", ""))
    description = str(posted.get("description", ""))
    raw = str(posted.get("definition", ""))
    import_only = posted.get("kind") == "import"
    segment_id = path_id(request, "segment") if "id" in request.match_info else None
    now = hub.clock.now()
    try:
        async with hub.db.writer() as session:
            definition = None if import_only else _definition(raw)
            if segment_id is None:
                saved = await audience.create_segment(
                    session, name, definition, now, description=description,
                    agent_id=viewer.agent_id,
                )  # fmt: skip
            else:
                saved = await audience.update_segment(
                    session, segment_id, now, name=name, definition=definition,
                    description=description,
                )  # fmt: skip
            try:
                await session.commit()
            except IntegrityError:
                raise texts.segment_name_taken(name) from None
            target = saved.id
    except ApiError as exc:
        if exc.status == 404 or import_only:
            raise
        current = None
        if segment_id is not None:
            async with hub.db.reader() as session:
                current = await audience.get_segment(session, segment_id)
        return await _editor(
            request, current, name=name, description=description, definition=raw,
            error=exc, status=exc.status,
        )  # fmt: skip
    see_other(f"/ui/segments/{target}", "segment")


async def delete(request: web.Request) -> web.StreamResponse:
    _marketer(request)
    hub = hub_of(request)
    async with hub.db.writer() as session:
        await audience.delete_segment(session, path_id(request, "segment"))
        await session.commit()
    see_other("/ui/segments", "segment_deleted")


async def preview(request: web.Request) -> web.Response:
    """The editor's live count and sample (JSON, called by segments.js with the CSRF header)."""
    _marketer(request)
    hub = hub_of(request)
    raw = await request.read()  # at most web.max_body_bytes
    body = _definition(raw.decode("utf-8", "replace"))
    definition = body.get("definition") if isinstance(body, dict) else None
    async with hub.db.reader() as session:
        found = await audience.preview(session, definition, hub.clock.now())
    return web.json_response(
        {
            "count": found.count,
            "sample": [
                {
                    "id": m.id,
                    "name": m.name,
                    "tier": m.tier,
                    "tags": list(m.tags),
                    "identities": [{"kind": k, "address": a} for k, a in m.identities],
                }
                for m in found.sample
            ],
        }
    )


async def import_csv(request: web.Request) -> web.StreamResponse:
    _marketer(request)
    hub, viewer = hub_of(request), viewer_of(request)
    segment_id = path_id(request, "segment")
    posted_already = not request.headers.get("X-CSRF-Token")
    problems: tuple[RowProblem, ...] = ()
    try:
        upload = await read_csv_body(request, MAX_BYTES, posted=posted_already)
        async with hub.db.writer() as session:
            result = await import_customers(
                session, segment_id, upload.data, hub.clock.now(),
                tiers=tiers_of(hub.settings), agent_id=viewer.agent_id,
            )  # fmt: skip
            await session.commit()
    except ImportRejected as rejected:
        error, problems = rejected.error(), rejected.problems
    except IntegrityError:
        error = texts.import_conflict()
    except ApiError as exc:
        if exc.status == 404:
            raise
        error = exc
    else:
        async with hub.db.reader() as session:
            segment = await audience.get_segment(session, segment_id)
        if wants_json(request):
            return web.json_response(
                {
                    "definition": segment.definition,  # an import may widen it
                    "rows": result.rows,
                    "created": result.created,
                    "updated": result.updated,
                    "added_to_segment": result.added_to_segment,
                    "consents_recorded": result.consents_recorded,
                }
            )
        return await _editor(request, segment, result=result)
    if wants_json(request):
        body: dict[str, Any] = error.body()
        body["rows"] = [{"row": p.row, "column": p.column, "problem": p.problem} for p in problems]
        return web.json_response(body, status=error.status)
    async with hub.db.reader() as session:
        segment = await audience.get_segment(session, segment_id)
    return await _editor(
        request, segment, problems=problems, import_error=error, status=error.status
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/segments", list_page)
    router.add_post("/ui/segments", save)
    router.add_get("/ui/segments/new", new_page)
    router.add_post("/ui/segments/preview", preview)
    router.add_get("/ui/segments/{id}", edit_page)
    router.add_post("/ui/segments/{id}", save)
    router.add_get("/ui/segments/{id}/count", count)
    router.add_post("/ui/segments/{id}/delete", delete)
    router.add_post("/ui/segments/{id}/import", import_csv)
