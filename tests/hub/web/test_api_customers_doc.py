"""The customer directory and insight endpoints answer, success and error alike, what the OpenAPI
document says (tests/hub/web/test_openapi.py checks the document itself)."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.db.models import Role
from hub.web.api import customers, insights
from hub.web.api.openapi import document as generate
from tests.hub.web.test_openapi import METHODS, Probe
from tests.support.crm import seed_conversation, seed_customer
from tests.support.desk import Desk

PATHS = generate((*customers.ENDPOINTS, *insights.ENDPOINTS))["paths"]


async def test_customer_answers_match_the_document(desk: Desk) -> None:
    probe = Probe(desk)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR, teams=())
    _, alice = await desk.agent("alice@example.com", teams=("support",))
    _, mark = await desk.agent("mark@example.com", role=Role.MARKETER, teams=())
    jane = await seed_customer(
        desk.hub, "Jane Cooper", tags=["vip"], emails=["jane@example.com"], attributes={"x": 1}
    )
    for _ in range(2):
        await seed_conversation(desk.hub, jane, datetime.now(UTC), csat=4)

    listing = "/api/v1/customers"
    status, page = await probe("GET", listing, alice, query="?q=jane&limit=1")
    assert status == 200 and page["items"][0]["id"] == jane
    assert (await probe("GET", listing, sue, query="?sort=nope"))[0] == 400
    assert (await probe("GET", listing, None))[0] == 401

    profile = "/api/v1/customers/{id}/profile"
    status, shown = await probe("GET", profile, mark, id=jane)
    assert status == 200 and len(shown["ratings"]) == 2
    assert (await probe("GET", profile, sue, id=999))[0] == 404

    one = "/api/v1/customers/{id}"
    change = {"tier": "gold", "tags": ["vip", "press"], "attributes": {"x": None, "y": "z"}}
    assert (await probe("PATCH", one, sue, change, id=jane))[0] == 200
    assert probe.request_errors == []
    assert (await probe("PATCH", one, alice, {"tier": "gold"}, id=jane))[0] == 403
    assert (await probe("PATCH", one, sue, {"tier": 5}, id=jane))[0] == 422
    assert (await probe("PATCH", one, sue, b"[", id=jane))[0] == 400

    importing = "/api/v1/customers/import"
    csv_text = b"name,email\nAda,ada@example.com\n"
    assert (await probe("POST", importing, sue, csv_text, query="?dry_run=true"))[0] == 200
    assert (await probe("POST", importing, sue, b"name,email\nBob,bob@\n"))[0] == 422
    assert (await probe("POST", importing, sue, b"colour\nred\n"))[0] == 400
    assert (await probe("POST", importing, alice, csv_text))[0] == 403
    assert (await probe("POST", importing, sue, csv_text))[0] == 200

    assert (await probe("GET", "/api/v1/insights", mark))[0] == 200
    assert (await probe("GET", "/api/v1/insights", alice))[0] == 403
    insight = "/api/v1/insights/{name}"
    assert (await probe("GET", insight, sue, name="most-active"))[0] == 200
    assert (await probe("GET", insight, sue, name="nope"))[0] == 404
    segments = "/api/v1/insights/{name}/segments"
    assert (await probe("POST", segments, mark, {"name": "Fans"}, name="most-active"))[0] == 201
    assert (await probe("POST", segments, mark, {"name": "Fans"}, name="most-active"))[0] == 422
    assert (await probe("POST", segments, mark, {}, name="most-active"))[0] == 422

    response = await desk.client.get(
        "/api/v1/customers.csv?tag=press", headers={"Authorization": f"Bearer {sue}"}
    )
    assert response.status == 200 and "Jane Cooper" in await response.text()
    probe.succeeded.add(("get", "/api/v1/customers.csv"))

    operations = {
        (method, path) for path, item in PATHS.items() for method in item if method in METHODS
    }
    assert operations - probe.succeeded == set()
