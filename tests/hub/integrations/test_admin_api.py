"""Only admins manage webhooks; a bad URL or an unknown event is refused naming the field; the
signing secret is shown once and never again (nor in the audit log); every change is audited."""

from __future__ import annotations

from sqlalchemy import select

from hub.db.admin_models import AdminChange
from hub.db.models import Role
from tests.hub.integrations.conftest import subscribe
from tests.support.desk import MakeDesk, auth
from tests.support.recorder import HttpRecorder

BASE = "/api/v1/admin/webhooks"


async def test_only_admins_and_bad_input_is_refused_by_field(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    _, agent = await desk.agent("agent@example.com")
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    good = {"name": "crm", "url": receiver.url("/hooks"), "events": ["message.created"]}
    refused = await desk.client.post(BASE, json=good, headers=auth(agent))
    assert refused.status == 403
    assert (await desk.client.get(BASE, headers=auth(agent))).status == 403
    for field, bad in (
        ("url", {**good, "url": "ftp://example.com/x"}),
        ("url", {**good, "url": "https://user:pw@example.com/x"}),
        ("url", {**good, "url": "not a url"}),
        ("events", {**good, "events": ["message.deleted"]}),
    ):
        answer = await desk.client.post(BASE, json=bad, headers=auth(admin))
        assert answer.status == 422, (field, await answer.text())
        assert field in (await answer.json())["error"]["fields"]
    empty = await desk.client.post(BASE, json={**good, "events": []}, headers=auth(admin))
    assert empty.status == 422
    catalog = await desk.client.get(f"{BASE}/events", headers=auth(admin))
    assert "conversation.status_changed" in [e["name"] for e in (await catalog.json())["items"]]


async def test_the_secret_is_shown_once_and_changes_are_audited(
    make_desk: MakeDesk, receiver: HttpRecorder
) -> None:
    desk = await make_desk()
    sub = await subscribe(desk, receiver, ["message.created"])
    assert sub.secret.startswith("whsec_")
    listed = await (await desk.client.get(BASE, headers=auth(sub.admin))).json()
    assert "secret" not in listed["items"][0]
    changed = await desk.client.patch(
        f"{BASE}/{sub.id}",
        json={"events": ["csat.received", "ticket.updated"], "name": "crm-2"},
        headers=auth(sub.admin),
    )
    assert changed.status == 200
    assert (await changed.json())["events"] == ["ticket.updated", "csat.received"]
    bad = await desk.client.patch(
        f"{BASE}/{sub.id}", json={"url": "javascript:alert(1)"}, headers=auth(sub.admin)
    )
    assert bad.status == 422
    off = await desk.client.patch(
        f"{BASE}/{sub.id}", json={"enabled": False}, headers=auth(sub.admin)
    )
    on = await desk.client.patch(
        f"{BASE}/{sub.id}", json={"enabled": True}, headers=auth(sub.admin)
    )
    assert (await off.json())["enabled"] is False and (await on.json())["enabled"] is True
    missing = await desk.client.patch(
        f"{BASE}/999999", json={"enabled": False}, headers=auth(sub.admin)
    )
    assert missing.status == 404
    async with desk.db.reader() as session:
        audit = (
            await session.scalars(
                select(AdminChange).where(AdminChange.area == "webhooks").order_by(AdminChange.id)
            )
        ).all()
    assert [a.action for a in audit] == ["create", "update", "disable", "update"]
    assert all(sub.secret not in a.old_value + a.new_value for a in audit)
