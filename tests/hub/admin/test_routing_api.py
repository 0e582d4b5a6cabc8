"""Routing rules one at a time through the admin API: add, edit (disable), move and delete, a
rule that cannot match refused naming the field, and the dry run for a pasted or past message."""

from __future__ import annotations

from typing import Any

from hub.db.models import Role
from tests.support.desk import MakeDesk, auth

RULE: dict[str, Any] = {
    "name": "vip mail",
    "channels": ["api"],
    "tiers": ["gold"],
    "team": "billing",
}


async def test_rules_one_at_a_time(make_desk: MakeDesk) -> None:
    desk = await make_desk(memory=("api",))
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, teams=("support", "billing"))
    _, agent = await desk.agent("agent@example.com")
    base = "/api/v1/admin/routing/rules"

    refused = {
        "rule": {"name": "catch all"},
        "rule.team": {**RULE, "team": "nobody"},
        "rule.channels": {**RULE, "channels": ["fax"]},
        "rule.priority": {**RULE, "priority": "asap"},
    }
    for field, rule in refused.items():
        response = await desk.client.post(base, json={"rule": rule}, headers=auth(admin))
        assert response.status == 422
        assert field in (await response.json())["error"]["fields"], await response.json()
    assert (await desk.client.post(base, json={"rule": RULE}, headers=auth(agent))).status == 403

    added = await (await desk.client.post(base, json={"rule": RULE}, headers=auth(admin))).json()
    names = [r["name"] for r in added["rules"]]
    assert names[-1] == "vip mail" and added["version"] == 1
    twice = await desk.client.post(base, json={"rule": RULE}, headers=auth(admin))
    assert (await twice.json())["error"]["fields"] == {"name": "rule name 'vip mail' is used twice"}

    moved = await desk.client.post(
        f"{base}/vip mail/move", json={"position": 1}, headers=auth(admin)
    )
    assert (await moved.json())["rules"][0]["name"] == "vip mail"
    off = await desk.client.put(
        f"{base}/vip mail", json={"rule": {**RULE, "enabled": False}}, headers=auth(admin)
    )
    assert (await off.json())["rules"][0]["enabled"] is False

    dry = await desk.client.post(
        "/api/v1/admin/routing/dry-run",
        json={"channel": "api", "from": "x@example.com", "text": "my invoice is wrong"},
        headers=auth(admin),
    )
    body = await dry.json()
    assert (body["rule"], body["position"], body["team"], body["priority"]) == (
        "billing questions",
        2,
        "billing",
        "high",
    )
    assert body["trace"][0] == {"name": "vip mail", "matched": False, "failed": "enabled"}
    past = await desk.customer_writes("The outage again", channel="api")
    by_id = await desk.client.post(
        "/api/v1/admin/routing/dry-run", json={"message_id": past.message_id}, headers=auth(admin)
    )
    assert (await by_id.json())["rule"] == "outage"
    empty = await desk.client.post(
        "/api/v1/admin/routing/dry-run", json={"channel": "api"}, headers=auth(admin)
    )
    assert empty.status == 422 and "text" in (await empty.json())["error"]["fields"]

    gone = await desk.client.delete(f"{base}/vip mail", headers=auth(admin))
    assert "vip mail" not in [r["name"] for r in (await gone.json())["rules"]]
    missing = await desk.client.delete(f"{base}/vip mail", headers=auth(admin))
    assert missing.status == 422
    assert (await missing.json())["error"]["fields"] == {"name": "no rule named 'vip mail'"}
