"""Channels in the admin API: status and endpoint per channel with secrets as set or not (never
the value, not in answers, pages or the audit log); a replaced secret is applied at once and by
another hub process; a test message goes out through the channel."""

from __future__ import annotations

import json

from hub.core.audit import recent_changes
from hub.db.models import Role
from tests.support.desk import MakeDesk, auth
from tests.support.recorder import HttpRecorder

OLD = "demo-inbound-token-0123456789"
NEW = "a-brand-new-inbound-token-42"
MESSAGE = {"external_id": "t-1", "from": {"address": "jane@example.com"}, "text": "Hi"}


async def test_secrets_status_and_test_send(
    make_desk: MakeDesk, callback_server: HttpRecorder
) -> None:
    desk = await make_desk()
    other = await make_desk()  # a second hub process on the same database
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    delivered = await desk.client.post(
        "/api/v1/inbound/api", json=MESSAGE, headers={"Authorization": f"Bearer {OLD}"}
    )
    assert delivered.status in (200, 201, 202)

    listed = await desk.client.get("/api/v1/admin/channels", headers=auth(admin))
    raw = await listed.text()
    assert OLD not in raw and "demo-callback-secret" not in raw
    api = next(c for c in json.loads(raw)["items"] if c["name"] == "api")
    assert api["endpoint"].endswith("/api/v1/inbound/api") and api["last_message_in"]
    assert {"field": "token", "set": True} in api["secrets"]

    short = await desk.client.put(
        "/api/v1/admin/channels/api/secrets/token", json={"value": "short"}, headers=auth(admin)
    )
    assert short.status == 422 and "value" in (await short.json())["error"]["fields"]
    not_secret = await desk.client.put(
        "/api/v1/admin/channels/api/secrets/title", json={"value": "x" * 20}, headers=auth(admin)
    )
    assert not_secret.status == 422 and "field" in (await not_secret.json())["error"]["fields"]
    replaced = await desk.client.put(
        "/api/v1/admin/channels/api/secrets/token", json={"value": NEW}, headers=auth(admin)
    )
    assert replaced.status == 200 and NEW not in await replaced.text()

    for hub_desk in (desk, other):
        await hub_desk.hub.settings_store.refresh(hub_desk.hub.db)
        old = await hub_desk.client.post(
            "/api/v1/inbound/api", json=MESSAGE, headers={"Authorization": f"Bearer {OLD}"}
        )
        assert old.status == 401
        new = await hub_desk.client.post(
            "/api/v1/inbound/api",
            json={**MESSAGE, "external_id": f"t-{id(hub_desk)}"},
            headers={"Authorization": f"Bearer {NEW}"},
        )
        assert new.status in (200, 201, 202)
    async with desk.db.reader() as session:
        [change] = await recent_changes(session, area="channels")
    assert change.target == "api.token" and NEW not in change.new and OLD not in change.old

    test = await desk.client.post(
        "/api/v1/admin/channels/api/test", json={"to": "ops@example.com"}, headers=auth(admin)
    )
    assert await test.json() == {"ok": True, "error": None}
    assert "This is a test message" in callback_server.requests[-1].body.decode()
    missing = await desk.client.post(
        "/api/v1/admin/channels/fax/test", json={"to": "x"}, headers=auth(admin)
    )
    assert missing.status == 404
