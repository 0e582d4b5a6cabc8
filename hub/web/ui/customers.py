"""The customer directory pages: search and filters (the API's parameters, as a GET form),
sortable columns, pages, CSV export of the filtered list and CSV import (all or nothing, with
each bad row's problems listed on the page)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.core.errors import ApiError, forbidden
from hub.crm import texts
from hub.crm.directory import CONTACTS, SEARCH_KEYS, DirectoryQuery, search
from hub.crm.edits import may_edit
from hub.crm.exporting import export_csv
from hub.crm.importing import import_csv
from hub.crm.insights import may_read
from hub.web.api.models.customers import DirectoryParams
from hub.web.api.parsing import parse
from hub.web.keys import hub_of
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of

SEARCH_LABELS = {
    "any": "Everything", "name": "Name", "email": "Email", "phone": "Phone",
    "handle": "Chat handle", "company": "Company", "tag": "Tag",
}  # fmt: skip
CONTACT_LABELS = {
    "any": "Any time", "7d": "In the last 7 days", "30d": "In the last 30 days",
    "90d": "In the last 90 days", "silent_30d": "Not for 30 days", "silent_90d": "Not for 90 days",
    "never": "Never",
}  # fmt: skip
FILTER_KEYS = ("q", "by", "tier", "tag", "contact", "open_tickets", "sort")


def directory_query(request: web.Request) -> tuple[DirectoryQuery, dict[str, str]]:
    """The page's query as the directory takes it, and the non-default parameters as given."""
    hub = hub_of(request)
    raw = {k: v for k, v in request.query.items() if k in (*FILTER_KEYS, "offset") and v != ""}
    raw.setdefault("limit", str(hub.settings.crm.page_size))
    params = parse(DirectoryParams, "query", raw, hub.settings)
    query = DirectoryQuery(
        q=params.q, by=params.by, tier=params.tier, tag=params.tag, contact=params.contact,
        open_tickets=params.open_tickets, sort=params.sort, offset=params.offset,
        limit=params.limit,
    )  # fmt: skip
    return query, {k: v for k, v in raw.items() if k in FILTER_KEYS}


def link(given: dict[str, str], **changes: Any) -> str:
    values = {**given, **{k: str(v) for k, v in changes.items() if v is not None}}
    return "/ui/customers?" + urlencode({k: v for k, v in values.items() if v})


async def directory(request: web.Request) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    query, given = directory_query(request)
    async with hub.db.reader() as session:
        found = await search(session, viewer.principal, query, hub.clock.now())
    imported = request.query.get("imported", "")
    notice = None
    if imported.count(",") == 1 and imported.replace(",", "").isdigit():
        created, updated = imported.split(",")
        notice = texts.NOTICE_IMPORTED.format(created=created, updated=updated)
    return page(
        request,
        "ui/customers.html",
        found=found,
        query=query,
        given=given,
        link=lambda **changes: link(given, **changes),
        export_link="/ui/customers/export.csv?" + urlencode(given),
        search_labels=SEARCH_LABELS,
        search_keys=SEARCH_KEYS,
        contact_labels=CONTACT_LABELS,
        contacts=CONTACTS,
        tiers=hub.settings.crm.tiers,
        may_edit=may_edit(viewer.principal),
        may_insights=may_read(viewer.principal),
        crm_notice=notice,
    )


async def export(request: web.Request) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    query, _ = directory_query(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="customers.csv"',
        }
    )
    await response.prepare(request)
    async with hub.db.reader() as session:
        async for chunk in export_csv(session, viewer.principal, query, hub.clock.now()):
            await response.write(chunk.encode())
    await response.write_eof()
    return response


def _may_import(request: web.Request) -> None:
    if not may_edit(viewer_of(request).principal):
        raise forbidden(texts.IMPORT_ACTION)


async def import_form(request: web.Request) -> web.Response:
    _may_import(request)
    return page(request, "ui/customers_import.html", problems=[], error=None)


async def import_file(request: web.Request) -> web.StreamResponse:
    _may_import(request)
    hub, viewer = hub_of(request), viewer_of(request)
    posted = await request.post()
    upload = posted.get("file")
    if not isinstance(upload, web.FileField):
        error = texts.csv_unreadable("choose a CSV file")
        return page(request, "ui/customers_import.html", status=400, problems=[], error=error)
    data = upload.file.read()
    dry_run = posted.get("dry_run") == "1"
    try:
        async with hub.db.writer() as session:
            result = await import_csv(
                session, data, hub.settings.crm, agent_id=viewer.agent_id, now=hub.clock.now()
            )
            if result.problems:
                return page(
                    request,
                    "ui/customers_import.html",
                    status=422,
                    problems=result.problems,
                    error=result.refusal(),
                )
            if not dry_run:
                await session.commit()
    except ApiError as error:
        return page(
            request, "ui/customers_import.html", status=error.status, problems=[], error=error
        )
    if dry_run:
        return page(request, "ui/customers_import.html", problems=[], error=None, checked=result)
    see_other(f"/ui/customers?imported={result.created},{result.updated}")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/ui/customers", directory)
    router.add_get("/ui/customers/export.csv", export)
    router.add_get("/ui/customers/import", import_form)
    router.add_post("/ui/customers/import", import_file)
