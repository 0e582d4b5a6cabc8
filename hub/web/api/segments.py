"""The audience API (marketers and admins): saved segments, the live preview of a definition
(count and sample), and the CSV import of customers into a segment."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from hub.campaigns import audience_texts as texts
from hub.campaigns import segments as audience
from hub.campaigns.customer_import import MAX_BYTES, ImportRejected, import_customers, tiers_of
from hub.campaigns.segments import SegmentSummary
from hub.core.authz import Principal
from hub.db.models import Role
from hub.web.api.edge import Call, Doc, Endpoint, Reply, Requires, endpoint
from hub.web.api.models import segments as shapes
from hub.web.api.models.segments import (
    CsvFile,
    Draft,
    Imported,
    NewSegment,
    Preview,
    Segment,
    SegmentChange,
    SegmentId,
    Segments,
)
from hub.web.csv_body import read_csv_body

TAG = "Audience"


def _marketer(caller: Principal) -> bool:
    return caller.role in (Role.MARKETER, Role.ADMIN)


MARKETERS = Requires(_marketer, texts.MARKETERS_ONLY)


def answer(summary: SegmentSummary) -> Segment:
    return Segment.model_validate(summary)


def preview_answer(found: audience.Preview) -> Preview:
    return Preview(
        count=found.count,
        sample=[
            shapes.Member(
                id=m.id,
                name=m.name,
                tier=m.tier,
                tags=list(m.tags),
                identities=[shapes.Address(kind=k, address=a) for k, a in m.identities],
            )
            for m in found.sample
        ],
    )


@endpoint(
    "GET",
    "/api/v1/segments",
    Doc(
        TAG,
        "Saved segments by name, each with its live count",
        "listSegments",
        requires=MARKETERS,
        errors=(401, 403),
    ),
)
async def list_segments(call: Call) -> Segments:
    async with call.hub.db.reader() as session:
        found = await audience.list_segments(session, call.hub.clock.now())
    return Segments(items=[answer(s) for s in found])


@endpoint(
    "POST",
    "/api/v1/segments",
    Doc(
        TAG,
        "Save a new segment",
        "createSegment",
        description="A definition problem is answered 422 invalid_segment naming its path "
        "(definition.all[1].value). Without a definition the segment holds only the customers "
        "imported into it.",
        requires=MARKETERS,
        ok={201: "The saved segment"},
        errors=(400, 401, 403, 413, 422),
        notes={409: "Another segment has this name (name_taken)"},
    ),
)
async def create_segment(call: Call, body: NewSegment) -> Reply[Segment]:
    hub = call.hub
    now = hub.clock.now()
    async with hub.db.writer() as session:
        saved = await audience.create_segment(
            session,
            body.name,
            body.definition,
            now,
            description=body.description,
            agent_id=call.principal.agent_id,
        )
        summary = await audience.summary_of(session, saved, now, 0)
        try:
            await session.commit()
        except IntegrityError:
            raise texts.segment_name_taken(body.name) from None
    return Reply(answer(summary), 201)


@endpoint(
    "GET",
    "/api/v1/segments/{id}",
    Doc(
        TAG,
        "One segment with its live count",
        "getSegment",
        requires=MARKETERS,
        errors=(401, 403, 404),
    ),
)
async def get_segment(call: Call, path: SegmentId) -> Segment:
    async with call.hub.db.reader() as session:
        segment = await audience.get_segment(session, path.id)
        return answer(await audience.summary_of(session, segment, call.hub.clock.now()))


@endpoint(
    "PATCH",
    "/api/v1/segments/{id}",
    Doc(
        TAG,
        "Rename a segment, describe it or change its definition",
        "updateSegment",
        requires=MARKETERS,
        errors=(400, 401, 403, 404, 413, 422),
        notes={409: "Another segment has this name (name_taken)"},
    ),
)
async def update_segment(call: Call, path: SegmentId, body: SegmentChange) -> Segment:
    hub = call.hub
    now = hub.clock.now()
    async with hub.db.writer() as session:
        segment = await audience.update_segment(
            session,
            path.id,
            now,
            name=body.name,
            definition=body.definition,
            description=body.description,
        )
        summary = await audience.summary_of(session, segment, now)
        try:
            await session.commit()
        except IntegrityError:
            raise texts.segment_name_taken(body.name or "") from None
    return answer(summary)


@endpoint(
    "DELETE",
    "/api/v1/segments/{id}",
    Doc(
        TAG,
        "Delete a segment (refused while a campaign or another segment uses it)",
        "deleteSegment",
        requires=MARKETERS,
        ok={204: "Deleted"},
        errors=(401, 403, 404),
        notes={409: "A campaign or another segment uses it (segment_in_use)"},
        media=None,
    ),
)
async def delete_segment(call: Call, path: SegmentId) -> None:
    async with call.hub.db.writer() as session:
        await audience.delete_segment(session, path.id)
        await session.commit()


@endpoint(
    "POST",
    "/api/v1/segments/preview",
    Doc(
        TAG,
        "Count and sample of a definition, saved or not",
        "previewSegment",
        description="The count is one SQL COUNT; the sample is the first 20 members by id.",
        requires=MARKETERS,
        errors=(400, 401, 403, 413, 422),
    ),
)
async def preview_segment(call: Call, body: Draft) -> Preview:
    async with call.hub.db.reader() as session:
        found = await audience.preview(session, body.definition, call.hub.clock.now())
    return preview_answer(found)


@endpoint(
    "POST",
    "/api/v1/segments/{id}/import",
    Doc(
        TAG,
        "Import customers from a CSV file into a segment, all or nothing",
        "importSegmentCustomers",
        description="A text/csv body, or multipart/form-data with the file in a part named "
        "file. Columns: name, email, phone, telegram, slack, company, tier, tags "
        "(;-separated), attribute.<key>, locale, timezone, consent (yes/no); see "
        "docs/segments.md. Customers are matched by address and updated, never duplicated.",
        requires=MARKETERS,
        ok={200: "Imported"},
        errors=(401, 403, 404),
        notes={
            400: "Not a readable CSV file (import_unreadable) or no file (bad_upload)",
            409: "A concurrent change touched the same customers (import_conflict); retry",
            413: "Larger than the limit (import_too_large) or too many rows",
            422: "Rows with problems (import_rejected): nothing was imported; fields maps "
            '"row N: column" to the problem',
        },
        reads=("text/csv", CsvFile),
    ),
)
async def import_into_segment(call: Call, path: SegmentId) -> Imported:
    hub = call.hub
    upload = await read_csv_body(call.request, MAX_BYTES)
    now = hub.clock.now()
    async with hub.db.writer() as session:
        try:
            result = await import_customers(
                session,
                path.id,
                upload.data,
                now,
                tiers=tiers_of(hub.settings),
                agent_id=call.principal.agent_id,
            )
            segment = await audience.get_segment(session, path.id)
            summary = await audience.summary_of(session, segment, now)
            await session.commit()
        except ImportRejected as rejected:
            raise rejected.error() from None
        except IntegrityError:
            raise texts.import_conflict() from None
    return Imported(
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        added_to_segment=result.added_to_segment,
        consents_recorded=result.consents_recorded,
        segment=answer(summary),
    )


ENDPOINTS: tuple[Endpoint, ...] = (
    list_segments,
    create_segment,
    preview_segment,
    get_segment,
    update_segment,
    delete_segment,
    import_into_segment,
)
