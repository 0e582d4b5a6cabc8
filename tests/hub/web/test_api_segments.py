"""Marketers build audiences over the API: segments, a live preview, CSV imports; agents and
supervisors are refused with a clear JSON body. Consent is recorded by staff with the source
their role gives, and by the public contact form's "send me news" box."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from sqlalchemy import select

from hub.db.campaign_models import ConsentChange, ConsentSource, Segment
from hub.db.models import Customer, Identity, Role
from tests.hub.web.test_openapi import Probe
from tests.support.desk import Desk, auth
from tests.support.forms import submit

LEADS = (
    "name,email,tier,tags,consent\nAna,ana@example.com,gold,vip,yes\nBo,bo@example.com,,vip,no\n"
)
VIP = {"field": "tag", "op": "has", "value": "vip"}


async def call(
    desk: Desk, method: str, path: str, token: str, body: Any = None, **kwargs: Any
) -> tuple[int, Any]:
    if body is not None:
        kwargs["json"] = body
    response = await desk.client.request(method, path, headers=auth(token), **kwargs)
    return response.status, await response.json() if response.status != 204 else None


async def test_a_marketer_saves_previews_imports_and_deletes_a_segment(desk: Desk) -> None:
    _, marketer = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    status, leads = await call(desk, "POST", "/api/v1/segments", marketer, {"name": "Fair leads"})
    assert status == 201, leads
    assert (leads["count"], leads["origin"]) == (0, "import")

    response = await desk.client.post(
        f"/api/v1/segments/{leads['id']}/import",
        data=LEADS.encode(),
        headers={**auth(marketer), "Content-Type": "text/csv"},
    )
    imported = await response.json()
    assert response.status == 200, imported
    assert (imported["created"], imported["added_to_segment"]) == (2, 2)
    assert imported["segment"]["count"] == 2

    gold = {"all": [VIP, {"field": "tier", "op": "eq", "value": "gold"}]}
    status, shown = await call(
        desk, "POST", "/api/v1/segments/preview", marketer, {"definition": gold}
    )
    assert status == 200
    assert shown["count"] == 1
    assert shown["sample"][0]["name"] == "Ana"
    assert shown["sample"][0]["identities"] == [{"kind": "email", "address": "ana@example.com"}]

    status, saved = await call(
        desk, "POST", "/api/v1/segments", marketer, {"name": "Gold VIPs", "definition": gold}
    )
    assert (status, saved["count"]) == (201, 1)
    status, renamed = await call(
        desk, "PATCH", f"/api/v1/segments/{saved['id']}", marketer, {"name": "Gold"}
    )
    assert (status, renamed["name"]) == (200, "Gold")
    status, listed = await call(desk, "GET", "/api/v1/segments", marketer)
    assert [(s["name"], s["count"]) for s in listed["items"]] == [("Fair leads", 2), ("Gold", 1)]
    status, _ = await call(desk, "DELETE", f"/api/v1/segments/{saved['id']}", marketer)
    assert status == 204
    assert await desk.count(Segment) == 1


async def test_bad_definitions_and_rows_are_4xx_naming_the_path_or_row(desk: Desk) -> None:
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    wrong = {"all": [VIP, {"field": "tier", "op": "between", "value": "x"}]}
    status, body = await call(
        desk, "POST", "/api/v1/segments/preview", admin, {"definition": wrong}
    )
    assert status == 422
    assert body["error"]["fields"] == {"definition.all[1].op": "tier takes eq, ne, in, contains"}
    status, body = await call(desk, "POST", "/api/v1/segments/preview", admin, {"definition": 3})
    assert (status, list(body["error"]["fields"])) == (422, ["definition"])

    _, segment = await call(desk, "POST", "/api/v1/segments", admin, {"name": "Import"})
    bad = LEADS + "Cy,cy@example,silver,,yes\n"
    form = FormData()
    form.add_field("file", bad.encode(), filename="leads.csv", content_type="text/csv")
    response = await desk.client.post(
        f"/api/v1/segments/{segment['id']}/import", data=form, headers=auth(admin)
    )
    body = await response.json()
    assert response.status == 422
    assert body["error"]["code"] == "import_rejected"
    assert body["error"]["fields"] == {"row 4: email": "'cy@example' is not an email address"}
    assert await desk.count(Customer) == 0
    response = await desk.client.post(
        f"/api/v1/segments/{segment['id']}/import", data=b"", headers=auth(admin)
    )
    assert response.status == 400
    huge = b"email\n" + b"someone@example.com\n" * 300_000  # about 6 MB
    response = await desk.client.post(
        f"/api/v1/segments/{segment['id']}/import",
        data=huge,
        headers={**auth(admin), "Content-Type": "text/csv"},
    )
    body = await response.json()
    assert response.status == 413
    assert body["error"]["message"].startswith("the CSV file is larger than the limit of 5242880")
    assert await desk.count(Customer) == 0


async def test_agents_and_supervisors_may_not_use_segments(desk: Desk) -> None:
    _, agent = await desk.agent("al@example.com")
    _, supervisor = await desk.agent("sue@example.com", role=Role.SUPERVISOR)
    for token in (agent, supervisor):
        status, body = await call(desk, "GET", "/api/v1/segments", token)
        assert status == 403
        assert body["error"]["message"] == (
            "your role may not work with segments and customer imports (marketers and admins)"
        )
        status, _ = await call(desk, "POST", "/api/v1/segments/preview", token, {"definition": VIP})
        assert status == 403


async def identity_of(desk: Desk, email: str) -> tuple[int, int]:
    async with desk.db.reader() as session:
        row = (
            await session.execute(
                select(Identity.customer_id, Identity.id).where(Identity.address == email)
            )
        ).one()
        return row[0], row[1]


async def test_consent_recorded_by_api_carries_the_callers_source(desk: Desk) -> None:
    _, marketer = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    _, admin = await desk.agent("ada@example.com", role=Role.ADMIN, teams=())
    _, leads = await call(desk, "POST", "/api/v1/segments", marketer, {"name": "Leads"})
    await desk.client.post(
        f"/api/v1/segments/{leads['id']}/import",
        data=b"email\nzoe@example.com\n",
        headers=auth(marketer),
    )
    customer_id, identity_id = await identity_of(desk, "zoe@example.com")
    url = f"/api/v1/customers/{customer_id}/consent"
    status, body = await call(
        desk, "POST", url, marketer, {"identity": identity_id, "state": "granted"}
    )
    assert status == 201, body
    assert body["current"][0]["state"] == "granted"
    assert body["current"][0]["source"] == "api"
    status, body = await call(
        desk, "POST", url, admin, {"identity": identity_id, "state": "revoked", "note": "phone"}
    )
    assert status == 201
    status, body = await call(desk, "GET", url, marketer)
    assert [(h["state"], h["source"], h["note"]) for h in body["history"]] == [
        ("granted", "api", ""),
        ("revoked", "api", "phone"),
    ]
    status, body = await call(desk, "POST", url, marketer, {"identity": 9999, "state": "granted"})
    assert (status, list(body["error"]["fields"])) == (422, ["identity"])
    status, body = await call(
        desk, "POST", url, marketer, {"identity": identity_id, "state": "maybe"}
    )
    assert (status, body["error"]["fields"]) == (422, {"state": "must be granted or revoked"})


async def test_an_agent_records_what_the_customer_said_on_a_customer_they_see(
    desk: Desk,
) -> None:
    _, agent = await desk.agent("al@example.com", teams=("support",))
    _, stranger = await desk.agent("bo@example.com", teams=("billing",))
    started = await desk.client.post(
        "/api/v1/inbound/api",
        json={"external_id": "c-1", "from": {"address": "kim@example.com"}, "text": "Hello"},
        headers=auth(desk.settings.channels["api"].token),  # type: ignore[attr-defined]
    )
    assert started.status == 201, await started.text()
    customer_id, identity_id = await identity_of(desk, "kim@example.com")
    url = f"/api/v1/customers/{customer_id}/consent"
    status, body = await call(
        desk, "POST", url, agent, {"identity": identity_id, "state": "granted"}
    )
    assert status == 201, body
    assert body["history"][0]["source"] == "agent"
    status, _ = await call(desk, "GET", url, stranger)
    assert status == 404


async def test_the_contact_forms_news_box_records_email_consent_from_the_form(
    desk: Desk,
) -> None:
    fields = {
        "name": "Lee Park",
        "email": "Lee.Park@example.com",
        "message": "Do you ship abroad?",
    }
    status, page = await submit(desk.client, fields | {"news": "yes"})
    assert status == 200, page
    status, _ = await submit(desk.client, fields | {"email": "nonews@example.com"})
    assert status == 200
    async with desk.db.reader() as session:
        changes = list(await session.scalars(select(ConsentChange)))
        address = await session.scalar(
            select(Identity.address).where(Identity.id == changes[0].identity_id)
        )
    assert [(c.kind, c.state, c.source) for c in changes] == [
        ("email", "granted", ConsentSource.FORM)
    ]
    assert address == "lee.park@example.com"
    form = await desk.client.get("/forms/contact")
    assert "Send me news" in await form.text()


async def test_answers_match_the_openapi_document(desk: Desk) -> None:
    probe = Probe(desk)
    _, marketer = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    _, agent = await desk.agent("al@example.com")
    status, made = await probe(
        "POST", "/api/v1/segments", marketer, {"name": "VIP", "definition": VIP}
    )
    assert status == 201 and probe.request_errors == []
    assert (await probe("POST", "/api/v1/segments", marketer, {"name": "vip", "definition": VIP}))[
        0
    ] == 409
    assert (await probe("GET", "/api/v1/segments", marketer))[0] == 200
    assert (await probe("GET", "/api/v1/segments", agent))[0] == 403
    one = "/api/v1/segments/{id}"
    assert (await probe("GET", one, marketer, id=made["id"]))[0] == 200
    assert (await probe("GET", one, marketer, id=999))[0] == 404
    assert (await probe("PATCH", one, marketer, {"description": "Our best"}, id=made["id"]))[
        0
    ] == 200
    preview = "/api/v1/segments/preview"
    assert (await probe("POST", preview, marketer, {"definition": VIP}))[0] == 200
    assert (await probe("POST", preview, marketer, {"definition": {"all": 1}}))[0] == 422
    status, leads = await probe("POST", "/api/v1/segments", marketer, {"name": "Leads"})
    imported = "/api/v1/segments/{id}/import"
    assert (await probe("POST", imported, marketer, LEADS.encode(), id=leads["id"]))[0] == 200
    assert (await probe("POST", imported, marketer, b"email\nnope\n", id=leads["id"]))[0] == 422
    customer_id, identity_id = await identity_of(desk, "ana@example.com")
    consent = "/api/v1/customers/{id}/consent"
    change = {"identity": identity_id, "state": "revoked"}
    assert (await probe("POST", consent, marketer, change, id=customer_id))[0] == 201
    assert probe.request_errors == []
    assert (await probe("GET", consent, marketer, id=customer_id))[0] == 200
    assert (await probe("GET", consent, marketer, id=99999))[0] == 404
