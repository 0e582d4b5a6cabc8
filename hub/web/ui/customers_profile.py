"""A customer's profile page: identities with their consent, the cross-channel timeline (links to
the conversations the viewer may open), ratings, campaign responses, notes, attributes and the
audit trail; supervisors and admins edit tier, tags, company, notes and attributes there."""

from __future__ import annotations

from aiohttp import web

from hub.core.errors import ApiError
from hub.crm.edits import (
    CustomerEdit,
    apply_edit,
    check_editor,
    may_edit,
    typed_value,
    validated,
)
from hub.crm.erasure import erasure_of, may_erase
from hub.crm.privacy_export import may_export
from hub.crm.profile import load_profile, visible_customer
from hub.crm.texts import ERASE_WORD, NOTICE_ALREADY_ERASED, NOTICE_ERASED, NOTICE_SAVED
from hub.web.keys import hub_of
from hub.web.requests import path_id
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of


async def profile(request: web.Request, form_error: ApiError | None = None) -> web.Response:
    hub, viewer = hub_of(request), viewer_of(request)
    customer_id = path_id(request, "customer")
    async with hub.db.reader() as session:
        found = await load_profile(session, viewer.principal, customer_id)
        erased = await erasure_of(session, found.customer.id)
    erased_notice = {"1": NOTICE_ERASED, "again": NOTICE_ALREADY_ERASED}
    return page(
        request,
        "ui/customer.html",
        status=form_error.status if form_error else 200,
        profile=found,
        customer=found.customer,
        editable=may_edit(viewer.principal),
        tiers=hub.settings.crm.tiers,
        form_error=form_error,
        crm_notice=NOTICE_SAVED
        if request.query.get("saved")
        else erased_notice.get(request.query.get("erased", "")),
        may_export=may_export(viewer.principal),
        may_erase=may_erase(viewer.principal),
        erased=erased,
        erase_word=ERASE_WORD,
    )


async def _save(request: web.Request, edit: CustomerEdit) -> web.StreamResponse:
    hub, viewer = hub_of(request), viewer_of(request)
    check_editor(viewer.principal)
    customer_id = path_id(request, "customer")
    try:
        edit = validated(edit, hub.settings.crm)
    except ApiError as refused:  # shown beside the form, which keeps the profile in view
        return await profile(request, refused)
    async with hub.db.writer() as session:
        customer = await visible_customer(session, viewer.principal, customer_id)
        await apply_edit(
            session, customer, edit, agent_id=viewer.agent_id, source="edit", now=hub.clock.now()
        )
        await session.commit()
    see_other(f"/ui/customers/{customer.id}?saved=1")


async def edit_profile(request: web.Request) -> web.StreamResponse:
    check_editor(viewer_of(request).principal)
    posted = await request.post()
    return await _save(
        request,
        CustomerEdit(
            company=str(posted.get("company", "")),
            tier=str(posted.get("tier", "")),
            tags=[str(posted.get("tags", ""))],
            notes=str(posted.get("notes", "")),
        ),
    )


async def edit_attribute(request: web.Request) -> web.StreamResponse:
    check_editor(viewer_of(request).principal)
    posted = await request.post()
    key = str(posted.get("key", "")).strip()
    value = None if posted.get("remove") else typed_value(str(posted.get("value", "")))
    return await _save(request, CustomerEdit(attributes={key: value}))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(r"/ui/customers/{id:\d+}", profile)
    router.add_post(r"/ui/customers/{id:\d+}", edit_profile)
    router.add_post(r"/ui/customers/{id:\d+}/attributes", edit_attribute)
