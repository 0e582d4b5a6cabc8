"""The privacy API: a customer's data export (one zip: JSON plus attachments) for supervisors
and admins, and erasure for admins; both audited (area ``privacy``)."""

from __future__ import annotations

from aiohttp import web

from hub.crm import texts
from hub.crm.erasure import erase_customer, may_erase
from hub.crm.privacy_export import export_customer, may_export
from hub.crm.profile import visible_customer
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.conversations import CustomerId
from hub.web.api.models.privacy import ErasureAnswer

TAG = "Customers"
EXPORTERS = Requires(may_export, texts.EXPORT_ACTION)
ERASERS = Requires(may_erase, texts.ERASE_ACTION)


def export_download(filename: str, content: bytes) -> web.Response:
    return web.Response(
        body=content,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )


@endpoint(
    "GET",
    "/api/v1/customers/{id}/export",
    Doc(
        TAG,
        "Everything held about one customer, as a zip (customer.json plus attachments)",
        "exportCustomerData",
        description="Profile, identities, consent and its history, conversations with every "
        "message, tickets, ratings, campaign recipients, profile changes; the attachments and "
        "raw mails under attachments/ and mail/. Supervisors and admins; audited.",
        requires=EXPORTERS,
        ok={200: "The zip"},
        errors=(401, 403, 404),
        media="application/zip",
    ),
)
async def export_data(call: Call, path: CustomerId) -> web.Response:
    hub = call.hub
    async with hub.db.writer() as session:
        customer = await visible_customer(session, call.principal, path.id)
        export = await export_customer(
            session, customer, actor_id=call.principal.agent_id, now=hub.clock.now()
        )
        await session.commit()
    return export_download(export.filename(), export.zipped())


@endpoint(
    "POST",
    "/api/v1/customers/{id}/erase",
    Doc(
        TAG,
        "Erase a customer: identities and message contents anonymised, attachments deleted",
        "eraseCustomer",
        description="Names, addresses, attributes, notes, tags, message texts and attachments "
        "are anonymised or deleted; conversations, tickets, ratings and report facts stay, so "
        "reports still count them. Consent becomes suppressed (erasure): nothing is sent to "
        "them again. Admins only; audited. A second call changes nothing (already_erased).",
        requires=ERASERS,
        ok={200: "Erased (or already erased)"},
        errors=(401, 403, 404),
    ),
)
async def erase(call: Call, path: CustomerId) -> ErasureAnswer:
    hub = call.hub
    async with hub.db.writer() as session:
        customer = await visible_customer(session, call.principal, path.id)
        done = await erase_customer(
            session, customer, actor_id=call.principal.agent_id, now=hub.clock.now()
        )
        await session.commit()
    return ErasureAnswer(
        customer_id=done.customer_id,
        erased_at=done.erased_at,
        already_erased=done.already,
        counts=done.counts,
    )


ENDPOINTS: tuple[Endpoint, ...] = (export_data, erase)
