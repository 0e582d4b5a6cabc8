"""The customer directory API: search, the full profile, audited edits, CSV export and import.
Everyone signed in reads the directory (agents only the customers of conversations they may
see, as hub.core.authz.can_see_customer says); supervisors and admins edit and import."""

from __future__ import annotations

from aiohttp import web

from hub.core.authz import Principal
from hub.core.errors import too_large
from hub.crm import texts
from hub.crm.directory import DirectoryQuery, DirectoryRow, search
from hub.crm.edits import CustomerEdit, apply_edit, may_edit, validated
from hub.crm.exporting import export_csv
from hub.crm.importing import import_csv
from hub.crm.profile import Profile, identities_of, load_profile, visible_customer
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models import customers as shapes
from hub.web.api.models.conversations import Customer, CustomerId, Identity

TAG = "Customers"
EDITORS = Requires(may_edit, texts.EDIT_ACTION)
IMPORTERS = Requires(may_edit, texts.IMPORT_ACTION)


def directory_query(params: shapes.DirectoryParams) -> DirectoryQuery:
    return DirectoryQuery(
        q=params.q,
        by=params.by,
        tier=params.tier or None,
        tag=params.tag or None,
        contact=params.contact,
        open_tickets=params.open_tickets,
        sort=params.sort,
        offset=params.offset,
        limit=params.limit,
    )


@endpoint(
    "GET",
    "/api/v1/customers",
    Doc(
        TAG,
        "Search and filter the customer directory",
        "listCustomers",
        description="q is a prefix of a name, company, email address, phone number, chat "
        "handle or tag (by= narrows it to one). Agents see the customers of conversations "
        "they may see; supervisors, admins and marketers see all. Offset pagination.",
        ok={200: "One page"},
        errors=(400, 401),
    ),
)
async def list_customers(call: Call, query: shapes.DirectoryParams) -> shapes.CustomerPage:
    async with call.hub.db.reader() as session:
        page = await search(session, call.principal, directory_query(query), call.hub.clock.now())
    return shapes.CustomerPage(
        items=[summary(row) for row in page.rows],
        total=page.total,
        more=page.more,
        next_offset=page.next_offset,
    )


@endpoint(
    "GET",
    "/api/v1/customers.csv",
    Doc(
        TAG,
        "The filtered directory as CSV (streamed)",
        "exportCustomers",
        description="Same filters as listCustomers (offset, limit and sort are ignored: every "
        "match, by id). Columns as POST /api/v1/customers/import reads them.",
        ok={200: "CSV"},
        errors=(400, 401),
        media="text/csv",
    ),
)
async def export_customers(call: Call, query: shapes.DirectoryParams) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": 'attachment; filename="customers.csv"',
        }
    )
    await stream_export(call.request, response, call, directory_query(query))
    return response


async def stream_export(
    request: web.Request, response: web.StreamResponse, call: Call, query: DirectoryQuery
) -> None:
    await response.prepare(request)
    async with call.hub.db.reader() as session:
        async for chunk in export_csv(session, call.principal, query, call.hub.clock.now()):
            await response.write(chunk.encode())
    await response.write_eof()


@endpoint(
    "POST",
    "/api/v1/customers/import",
    Doc(
        TAG,
        "Create or update customers from CSV, all or nothing",
        "importCustomers",
        description="A row with an id updates that customer; a row whose email or phone is "
        "known updates its customer; other rows create customers. Every row is checked first: "
        "if any has a problem nothing is imported and the answer (422, import_refused) names "
        "each row and column in error.fields, as 'row N: column'. Changes are audited.",
        requires=IMPORTERS,
        ok={200: "Imported (or, with dry_run=true, checked)"},
        errors=(400, 401, 403, 413),
        notes={422: "Rows with problems (import_refused); nothing was imported"},
        reads=("text/csv", shapes.CustomerCsv),
    ),
)
async def import_customers(call: Call, query: shapes.ImportQuery) -> shapes.ImportReport:
    hub = call.hub
    data = await read_limited(call.request, hub.settings.crm.import_max_bytes)
    async with hub.db.writer() as session:
        result = await import_csv(
            session,
            data,
            hub.settings.crm,
            agent_id=call.principal.agent_id,
            now=hub.clock.now(),
        )
        if result.problems:
            raise result.refusal()
        if query.dry_run == "false":
            await session.commit()
    return shapes.ImportReport(
        created=result.created, updated=result.updated, dry_run=query.dry_run == "true"
    )


def summary(row: DirectoryRow) -> shapes.CustomerSummary:
    return shapes.CustomerSummary(
        id=row.customer.id,
        name=row.customer.name,
        company=row.customer.company,
        tier=row.customer.tier,
        tags=list(row.customer.tags or []),
        email=row.email,
        open_tickets=row.open_tickets,
        last_contact_at=row.customer.last_contact_at,
        created_at=row.customer.created_at,
    )


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The body, up to ``limit`` bytes (an import may be larger than other API bodies)."""
    if request.content_length is not None and request.content_length > limit:
        raise too_large(limit)
    data = bytearray()
    while chunk := await request.content.read(65536):
        data += chunk
        if len(data) > limit:
            raise too_large(limit)
    return bytes(data)


def profile_answer(profile: Profile, principal: Principal) -> shapes.CustomerProfile:
    c = profile.customer
    return shapes.CustomerProfile(
        id=c.id,
        name=c.name,
        company=c.company,
        tier=c.tier,
        tags=list(c.tags or []),
        attributes=dict(c.attributes or {}),
        locale=c.locale,
        timezone=c.timezone,
        notes=c.notes,
        created_at=c.created_at,
        last_contact_at=c.last_contact_at,
        open_tickets=profile.open_tickets,
        editable=may_edit(principal),
        identities=[Identity.model_validate(i) for i in profile.identities],
        timeline=[shapes.TimelineEntry.model_validate(e) for e in profile.timeline],
        ratings=[shapes.Rating.model_validate(r) for r in profile.ratings],
        consents=[
            shapes.Consent(
                kind=v.kind,
                address=v.address,
                state=v.state.value if v.state else "unknown",
                source=v.source.value if v.source else None,
                changed_at=v.changed_at,
            )
            for v in profile.consents
        ],
        campaigns=[shapes.CampaignResponse.model_validate(r) for r in profile.campaigns],
        changes=[
            shapes.Change(
                field=ch.row.field,
                old_value=ch.row.old_value,
                new_value=ch.row.new_value,
                source=ch.row.source,
                agent_id=ch.row.agent_id,
                by=ch.by,
                created_at=ch.row.created_at,
            )
            for ch in profile.changes
        ],
    )


@endpoint(
    "GET",
    "/api/v1/customers/{id}/profile",
    Doc(
        TAG,
        "A customer's profile: identities, timeline, ratings, consent, campaigns, audit trail",
        "getCustomerProfile",
        description="Conversations the caller may not open are listed without their subject.",
        ok={200: "The profile"},
        errors=(401, 404),
    ),
)
async def get_profile(call: Call, path: CustomerId) -> shapes.CustomerProfile:
    async with call.hub.db.reader() as session:
        profile = await load_profile(session, call.principal, path.id)
        return profile_answer(profile, call.principal)


@endpoint(
    "PATCH",
    "/api/v1/customers/{id}",
    Doc(
        TAG,
        "Edit tier, tags, attributes, company, name or notes (audited)",
        "updateCustomer",
        description="Supervisors and admins only; agents and marketers read profiles. Each "
        "changed field is written to the audit trail (who, when, old -> new).",
        requires=EDITORS,
        ok={200: "The changed customer"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def patch_customer(call: Call, path: CustomerId, body: shapes.CustomerPatch) -> Customer:
    hub = call.hub
    edit = validated(
        CustomerEdit(
            name=body.name,
            company=body.company,
            tier=body.tier,
            tags=body.tags,
            notes=body.notes,
            attributes=dict(body.attributes or {}),
        ),
        hub.settings.crm,
    )
    async with hub.db.writer() as session:
        customer = await visible_customer(session, call.principal, path.id)
        await apply_edit(
            session,
            customer,
            edit,
            agent_id=call.principal.agent_id,
            source="api",
            now=hub.clock.now(),
        )
        await session.commit()
        return Customer.of(customer, await identities_of(session, customer.id))


ENDPOINTS: tuple[Endpoint, ...] = (
    list_customers,
    export_customers,
    import_customers,
    get_profile,
    patch_customer,
)
