"""The templates page: an admin opens the acknowledgement, sees it rendered with sample data,
gets a template error with its part and line (nothing saved), saves a channel variant (audited),
and edits a canned response with its preview."""

from __future__ import annotations

from sqlalchemy import select

from hub.core.audit import recent_changes
from hub.db.inbox_models import CannedResponse
from hub.db.models import Role
from hub.db.routing_models import FollowupTemplate
from tests.hub.web.ui.conftest import UiFactory
from tests.support.desk import Desk

JSON = {"Accept": "application/json"}


async def test_an_admin_edits_the_acknowledgement(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN)
    listing = await admin.page("/ui/admin/templates")
    assert "Acknowledgement" in listing and "Satisfaction survey (CSAT)" in listing
    editor = await admin.page("/ui/admin/templates/ack?channel=mail")
    assert "from the template files" in editor and "Jane Cooper" in editor

    broken = {"channel": "mail", "locale": "", "subject": "Thanks", "txt": "Hi\n{{ nope.x }}"}
    live = await admin.post("/ui/admin/templates/ack/preview", broken, headers=JSON)
    assert await live.json() == {
        "error": "txt line 2: UndefinedError: 'nope' is undefined",
        "part": "txt",
        "line": 2,
    }
    refused = await admin.post("/ui/admin/templates/ack", {**broken, "action": "save"})
    assert refused.status == 422
    assert "txt line 2: UndefinedError" in await refused.text()
    syntax = await admin.post(
        "/ui/admin/templates/ack", {**broken, "txt": "ok", "subject": "{% if %}"}
    )
    assert "subject line 1: Expected an expression" in await syntax.text()
    assert await desk.count(FollowupTemplate) == 0

    good = {**broken, "txt": "Hello {{ customer.name }}, ticket #{{ ticket.number }}."}
    rendered = await (
        await admin.post("/ui/admin/templates/ack/preview", good, headers=JSON)
    ).json()
    assert rendered["text"] == "Hello Jane Cooper, ticket #1042.\n"
    saved = await admin.post("/ui/admin/templates/ack", {**good, "action": "save"})
    assert saved.status == 303
    assert "This variant is saved" in await admin.page("/ui/admin/templates/ack?channel=mail")
    async with desk.db.reader() as session:
        [change] = await recent_changes(session, area="templates")
    assert change.target == "ack (mail, any locale)" and change.action == "create"
    assert "from files" in change.old and "ticket #{{ ticket.number }}" in change.new


async def test_an_admin_edits_a_canned_response(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN)
    made = await admin.post(
        "/ui/canned", {"shortcut": "hello", "title": "Hello", "body": "Hi {{ customer.name }}"}
    )
    assert made.status == 303
    async with desk.db.reader() as session:
        item_id = await session.scalar(select(CannedResponse.id))
    page = await admin.page(f"/ui/admin/templates/canned/{item_id}")
    assert "Hi Jane Cooper" in page
    live = await admin.post(
        f"/ui/admin/templates/canned/{item_id}",
        {"title": "Hello", "body": "Dear {{ customer.first_name }}"},
        headers=JSON,
    )
    assert (await live.json())["text"] == "Dear Jane"
    empty = await admin.post(f"/ui/admin/templates/canned/{item_id}", {"title": "", "body": "x"})
    assert empty.status == 422 and "title: is required" in await empty.text()
    saved = await admin.post(
        f"/ui/admin/templates/canned/{item_id}", {"title": "Greeting", "body": "Dear all"}
    )
    assert saved.status == 303
    async with desk.db.reader() as session:
        [change] = await recent_changes(session, area="templates")
    assert change.target == "canned response /hello"
