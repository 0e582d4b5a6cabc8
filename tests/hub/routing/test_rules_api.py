"""Rules through the API: admins read and replace them (validated, versioned, used at once by
the pipeline); a dry run shows which rule a message would hit and why earlier ones did not;
other roles are refused."""

from __future__ import annotations

from typing import Any

from hub.core.tickets import ticket_for
from hub.db.models import Role, Team
from tests.support.desk import MakeDesk, auth

RULES: list[dict[str, Any]] = [
    {"name": "spam", "regex": ["(?i)casino bonus"], "spam": True},
    {"name": "vip", "tiers": ["platinum"], "team": "vip", "priority": "high"},
    {
        "name": "cancel",
        "intents": ["cancel my order"],
        "team": "billing",
        "add_tags": ["cancellation"],
        "category": "orders",
        "assign": "least_loaded",
    },
    {"name": "weekend", "business_hours": "outside", "open_ticket": False},
]


async def test_rules_replace_validate_and_route(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.calendar": "office"})
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    _, agent = await desk.agent("agent@example.com", teams=("billing",))

    initial = await desk.client.get("/api/v1/routing/rules", headers=auth(admin))
    body = await initial.json()
    assert body["source"] == "config" and body["rules"][0]["name"] == "billing questions"
    refused = await desk.client.put(
        "/api/v1/routing/rules", json={"rules": RULES}, headers=auth(agent)
    )
    assert refused.status == 403
    bad = await desk.client.put(
        "/api/v1/routing/rules",
        json={"rules": [{"name": "x", "regex": ["(unclosed"]}]},
        headers=auth(admin),
    )
    assert bad.status == 422
    assert "rules.0.regex" in (await bad.json())["error"]["message"]
    unknown = await desk.client.put(
        "/api/v1/routing/rules",
        json={"rules": [{"name": "x", "channels": ["fax"]}]},
        headers=auth(admin),
    )
    assert (await unknown.json())["error"]["fields"] == {
        "rules.0.channels": "unknown channel 'fax'"
    }
    no_team = await desk.client.put(
        "/api/v1/routing/rules", json={"rules": RULES}, headers=auth(admin)
    )
    assert (await no_team.json())["error"]["fields"] == {
        "rules.1.team": "no team named 'vip' (create it on the Teams page first)"
    }
    await desk.agent("vip-desk@example.com", teams=("vip",))
    saved = await desk.client.put(
        "/api/v1/routing/rules", json={"rules": RULES}, headers=auth(admin)
    )
    assert saved.status == 200 and (await saved.json())["version"] == 1
    listed = await (await desk.client.get("/api/v1/routing/rules", headers=auth(admin))).json()
    assert listed["source"] == "api" and [r["name"] for r in listed["rules"]] == [
        r["name"] for r in RULES
    ]

    result = await desk.customer_writes(
        "Hi, I would like to cancle my order please", sender="c@example.com"
    )
    conversation = await desk.conversation(result.conversation_id)
    async with desk.hub.db.reader() as session:
        team = await session.get(Team, conversation.team_id)
        ticket = await ticket_for(session, conversation.id)
    assert team is not None and team.slug == "billing"
    assert ticket is not None and ticket.category == "orders"
    spam = await desk.customer_writes("Claim your CASINO BONUS now", sender="s@example.com")
    spammed = await desk.conversation(spam.conversation_id)
    assert spammed.status == "resolved" and spammed.assignee_id is None
    assert spam.ticket_number is None


async def test_dry_run_shows_the_rule_and_the_trace(make_desk: MakeDesk) -> None:
    desk = await make_desk(**{"routing.calendar": "office"})
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN, capacity=0)
    _, agent = await desk.agent("agent@example.com")
    request = {
        "channel": "api",
        "text": "I want to cancel my order",
        "customer": {"tier": "standard"},
        "at": "2026-03-02T10:00:00+01:00",
        "rules": RULES,
    }
    response = await desk.client.post("/api/v1/routing/dry-run", json=request, headers=auth(admin))
    assert response.status == 200
    body = await response.json()
    assert body["matched"] == {"index": 2, "name": "cancel"}
    assert body["actions"]["team"] == "billing" and body["actions"]["tags"] == ["cancellation"]
    assert [step.get("failed") for step in body["trace"]] == ["regex", "tiers", None]
    assert body["trace"][2]["intent_score"] >= 85
    weekend = await desk.client.post(
        "/api/v1/routing/dry-run",
        json={**request, "text": "hello", "at": "2026-03-07T12:00:00+00:00"},
        headers=auth(admin),
    )
    weekend_body = await weekend.json()
    assert weekend_body["matched"]["name"] == "weekend"
    assert weekend_body["inside_business_hours"] is False
    assert weekend_body["actions"]["open_ticket"] is False
    naive = await desk.client.post(
        "/api/v1/routing/dry-run", json={**request, "at": "2026-03-07T12:00"}, headers=auth(admin)
    )
    assert naive.status == 422 and (await naive.json())["error"]["fields"] == {
        "at": "must include a time zone offset"
    }
    forbidden = await desk.client.post("/api/v1/routing/dry-run", json=request, headers=auth(agent))
    assert forbidden.status == 403
