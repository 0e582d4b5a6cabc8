"""/ui/admin/channels: each configured channel with its status (last message in, last
delivery, last error), the address to give the provider, its secrets masked (replaceable,
never shown back) and a "send test" form."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.admin import texts
from hub.core.errors import ApiError
from hub.web.api.admin_channels import channel_statuses, replace_secret, test_send
from hub.web.keys import hub_of
from hub.web.ui.admin_forms import admin_only, posted
from hub.web.ui.render import page, see_other
from hub.web.ui.viewer import viewer_of

BASE = "/ui/admin/channels"


async def _page(
    request: web.Request, *, results: dict[str, Any] | None = None, status: int = 200
) -> web.Response:
    hub = hub_of(request)
    return page(
        request,
        "ui/admin/channels.html",
        status=status,
        channels=await channel_statuses(hub),
        results=results or {},
        mask=texts.SECRET_MASK,
    )


async def channels_page(request: web.Request) -> web.Response:
    admin_only(request)
    return await _page(request)


async def save_secret(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    name = request.match_info["name"]
    form = await posted(request)
    field, value = form.get("field", ""), form.get("value", "")
    if not value:
        problem = "value: is required: the new secret as a non-empty string"
        return await _page(request, results={name: {"secret_error": problem}}, status=422)
    try:
        await replace_secret(hub_of(request), name, field, value, viewer_of(request).agent_id)
    except ApiError as exc:
        problem = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message
        return await _page(request, results={name: {"secret_error": problem}}, status=exc.status)
    see_other(BASE, "admin_saved")


async def send_test(request: web.Request) -> web.StreamResponse:
    admin_only(request)
    name = request.match_info["name"]
    to = (await posted(request)).get("to", "").strip()
    if not to or len(to) > 320:
        problem = "to: give the address or chat id to send the test to"
        return await _page(request, results={name: {"test_error": problem}}, status=422)
    result = await test_send(hub_of(request), name, to)
    outcome = {"test_ok": texts.TEST_SENT} if result.ok else {"test_error": result.error}
    return await _page(request, results={name: outcome | {"to": to}})


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, channels_page)
    router.add_post(f"{BASE}/{{name}}/secret", save_secret)
    router.add_post(f"{BASE}/{{name}}/test", send_test)
