"""Marketers run campaigns over the API: write a draft, check it, preview it as a customer, send
themselves a test, send it, follow its progress to the end and read its results and CSV. Bad
input is a 4xx naming the field and leaves nothing behind; agents and supervisors get a 403
JSON body, admins may do everything a marketer may."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest

from hub.db.models import Role
from tests.hub.campaigns.audience import add_person, add_segment
from tests.hub.web.test_openapi import Probe
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.poll import eventually

CONTENT = {
    "email": {
        "subject": "Winter sale, {{ customer.first_name | default('friend') }}",
        "html": "<p>Hi {{ customer.first_name | default('there') }}, the sale starts.</p>",
        "text": "Hi {{ customer.first_name | default('there') }}, the sale starts.",
    },
    "chat": {"text": "Hi {{ customer.first_name | default('there') }}, the sale starts."},
}


@pytest.fixture
async def desk(make_desk: MakeDesk) -> Desk:
    return await make_desk(**{"campaigns.poll_seconds": 0.05, "campaigns.quiet_hours": False})


async def call(desk: Desk, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    response = await desk.client.request(method, path, headers=auth(token), **kwargs)
    if response.content_type == "application/json":
        return response.status, await response.json()
    return response.status, await response.text()


async def audience(desk: Desk) -> tuple[int, dict[str, int]]:
    """A segment of two consenting email customers and one without consent."""
    now = desk.hub.clock.now()
    ann = await add_person(desk.db, now, "Ann Lee", {"email": "ann@example.com"})
    bob = await add_person(desk.db, now, "Bob Ray", {"email": "bob@example.com"})
    cy = await add_person(desk.db, now, "Cy", {"email": "cy@example.com"}, consent={})
    segment = await add_segment(desk.db, now)
    return segment, {"ann": ann.customer_id, "bob": bob.customer_id, "cy": cy.customer_id}


async def test_a_marketer_writes_tests_sends_and_reads_the_results(desk: Desk) -> None:
    assert desk.smtp is not None
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    segment, people = await audience(desk)

    status, draft = await call(
        desk, "POST", "/api/v1/campaigns", mia, {"name": "Winter", "content": CONTENT}
    )
    assert status == 201, draft
    assert (draft["state"], draft["segment_id"]) == ("draft", None)
    cid = draft["id"]

    status, check = await call(desk, "POST", f"/api/v1/campaigns/{cid}/check", mia)
    assert (status, check["sendable"]) == (200, False)
    assert check["problems"]["segment_id"] == "choose a segment"

    status, changed = await call(
        desk,
        "PATCH",
        f"/api/v1/campaigns/{cid}",
        mia,
        {"segment_id": segment, "fallback": ["email"]},
    )
    assert status == 200, changed
    assert (changed["segment_id"], changed["fallback"], changed["name"]) == (
        segment,
        ["email"],
        "Winter",
    )
    assert changed["content"]["email"]["subject"] == CONTENT["email"]["subject"]
    status, check = await call(desk, "POST", f"/api/v1/campaigns/{cid}/check", mia)
    assert check == {"sendable": True, "problems": {}}

    status, shown = await call(
        desk,
        "POST",
        f"/api/v1/campaigns/{cid}/preview",
        mia,
        {"channel": "email", "customer_id": people["ann"]},
    )
    assert status == 200, shown
    assert shown["subject"] == "Winter sale, Ann"
    assert "Hi Ann, the sale starts." in shown["text"]
    assert shown["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    status, typed = await call(
        desk,
        "POST",
        f"/api/v1/campaigns/{cid}/preview",
        mia,
        {"channel": "slack", "content": {"chat": {"text": "Hey {{ customer.name }}!"}}},
    )
    assert status == 200, typed
    assert typed["text"].startswith("Hey ") and typed["subject"] is None

    status, tested = await call(desk, "POST", f"/api/v1/campaigns/{cid}/test", mia, {})
    assert status == 200, tested
    assert (tested["ok"], tested["address"]) == (True, "mia@example.com")
    [test_mail] = await desk.smtp.wait_for(1)
    assert test_mail.message["Subject"].startswith("[TEST] Winter sale")
    assert test_mail.rcpt_tos == ["mia@example.com"]

    status, started = await call(desk, "POST", f"/api/v1/campaigns/{cid}/send", mia)
    assert status == 202, started
    assert started["recipients"] == 3
    assert started["skipped"] == {"no_consent": 1}

    async def done() -> bool:
        _, now = await call(desk, "GET", f"/api/v1/campaigns/{cid}/progress", mia)
        return bool(now["finished"]) and now["state"] == "finished"

    await eventually(done, 20, interval=0.05, what="campaign finished")
    status, final = await call(desk, "GET", f"/api/v1/campaigns/{cid}/progress", mia)
    assert final["states"] == {"sent": 2, "skipped": 1}
    assert final["explanation"].startswith("Finished: 2 sent + 0 failed + 1 skipped")
    sent = await desk.smtp.wait_for(3)
    assert sorted(r for m in sent[1:] for r in m.rcpt_tos) == ["ann@example.com", "bob@example.com"]

    status, results = await call(desk, "GET", f"/api/v1/campaigns/{cid}/results", mia)
    assert status == 200, results
    assert results["finished"] is True
    assert (results["total"]["sent"], results["total"]["skipped"]) == (2, 1)
    assert results["total"]["skipped_by_reason"] == {"no_consent": 1}
    assert sum(point["sent"] for point in results["over_time"]) == 2

    response = await desk.client.get(f"/api/v1/campaigns/{cid}/export.csv", headers=auth(mia))
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert sorted(row["state"] for row in rows) == ["sent", "sent", "skipped"]

    status, listed = await call(desk, "GET", "/api/v1/campaigns", mia)
    assert status == 200
    [line] = listed["items"]
    assert (line["campaign"]["id"], line["sent"], line["skipped"], line["recipients"]) == (
        cid,
        2,
        1,
        3,
    )
    status, again = await call(desk, "POST", f"/api/v1/campaigns/{cid}/retry-failed", mia)
    assert (status, again["requeued"]) == (200, 0)


async def test_bad_input_names_the_field_and_leaves_nothing_behind(desk: Desk) -> None:
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    segment, _people = await audience(desk)
    broken = {"email": {"subject": "Hi", "html": "<p>ok</p>\n<p>{{ customer.name </p>"}}
    status, refused = await call(
        desk,
        "POST",
        "/api/v1/campaigns",
        mia,
        {"name": "Broken", "segment_id": 999, "content": broken, "fallback": ["fax"]},
    )
    assert status == 422, refused
    fields = refused["error"]["fields"]
    assert fields["content.email.html"].startswith("line 2:")
    assert fields["segment_id"] == "segment 999 does not exist"
    assert "fax" in fields["fallback[0]"]
    status, refused = await call(desk, "POST", "/api/v1/campaigns", mia, {"name": 5})
    assert (status, refused["error"]["fields"]) == (422, {"name": "must be a string"})
    status, refused = await call(desk, "POST", "/api/v1/campaigns", mia, {"nme": "x"})
    assert (status, list(refused["error"]["fields"])) == (422, ["nme"])
    status, listed = await call(desk, "GET", "/api/v1/campaigns", mia)
    assert listed == {"items": []}

    status, draft = await call(
        desk, "POST", "/api/v1/campaigns", mia, {"name": "Spring", "segment_id": segment}
    )
    cid = draft["id"]
    status, refused = await call(desk, "POST", f"/api/v1/campaigns/{cid}/send", mia)
    assert status == 422, refused
    assert "content.email.subject" in refused["error"]["fields"]
    for moment, problem in (
        ("next tuesday", "ISO 8601"),
        ("2030-01-01T09:00:00", "timezone offset"),
        ("2001-01-01T09:00:00+00:00", "in the future"),
    ):
        status, refused = await call(
            desk, "POST", f"/api/v1/campaigns/{cid}/schedule", mia, {"scheduled_at": moment}
        )
        assert status == 422, (moment, refused)
        assert problem in refused["error"]["fields"]["scheduled_at"]
    status, refused = await call(
        desk, "POST", f"/api/v1/campaigns/{cid}/preview", mia, {"channel": "fax"}
    )
    assert (status, list(refused["error"]["fields"])) == (422, ["channel"])
    status, refused = await call(
        desk,
        "POST",
        f"/api/v1/campaigns/{cid}/preview",
        mia,
        {"content": {"chat": {"text": "Hi\n{{ custmer.name }}"}}, "channel": "telegram"},
    )
    assert status == 422
    assert refused["error"]["fields"]["content.chat.text"].startswith("line 2: unknown name")
    status, refused = await call(desk, "POST", f"/api/v1/campaigns/{cid}/pause", mia)
    assert (status, list(refused["error"]["fields"])) == (409, ["state"])
    status, refused = await call(desk, "GET", "/api/v1/campaigns/4242", mia)
    assert status == 404
    status, kept = await call(desk, "GET", f"/api/v1/campaigns/{cid}", mia)
    assert (kept["state"], kept["recipient_count"], kept["content"]) == ("draft", 0, {})


async def test_a_scheduled_campaign_can_be_moved_and_cancelled(desk: Desk) -> None:
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    segment, _people = await audience(desk)
    status, draft = await call(
        desk,
        "POST",
        "/api/v1/campaigns",
        mia,
        {"name": "Later", "segment_id": segment, "content": CONTENT},
    )
    cid = draft["id"]
    status, planned = await call(
        desk,
        "POST",
        f"/api/v1/campaigns/{cid}/schedule",
        mia,
        {"scheduled_at": "2099-12-24T09:00:00+01:00"},
    )
    assert status == 200, planned
    assert (planned["state"], planned["scheduled_at"]) == ("scheduled", "2099-12-24T08:00:00+00:00")
    status, cancelled = await call(desk, "POST", f"/api/v1/campaigns/{cid}/cancel", mia)
    assert (status, cancelled["state"]) == (200, "cancelled")
    status, refused = await call(desk, "POST", f"/api/v1/campaigns/{cid}/resume", mia)
    assert status == 409
    status, refused = await call(
        desk, "PATCH", f"/api/v1/campaigns/{cid}", mia, {"name": "Too late"}
    )
    assert (status, refused["error"]["code"]) == (409, "conflict")


ENDPOINTS = (
    ("GET", "/api/v1/campaigns", None),
    ("POST", "/api/v1/campaigns", {"name": "x"}),
    ("GET", "/api/v1/campaigns/{id}", None),
    ("PATCH", "/api/v1/campaigns/{id}", {"name": "y"}),
    ("POST", "/api/v1/campaigns/{id}/check", None),
    ("POST", "/api/v1/campaigns/{id}/preview", {}),
    ("POST", "/api/v1/campaigns/{id}/test", {}),
    ("POST", "/api/v1/campaigns/{id}/send", None),
    ("POST", "/api/v1/campaigns/{id}/schedule", {"scheduled_at": "2099-01-01T00:00:00Z"}),
    ("POST", "/api/v1/campaigns/{id}/pause", None),
    ("POST", "/api/v1/campaigns/{id}/resume", None),
    ("POST", "/api/v1/campaigns/{id}/cancel", None),
    ("POST", "/api/v1/campaigns/{id}/retry-failed", None),
    ("POST", "/api/v1/campaigns/{id}/retry-unconfirmed", None),
    ("GET", "/api/v1/campaigns/{id}/progress", None),
    ("GET", "/api/v1/campaigns/{id}/results", None),
    ("GET", "/api/v1/campaigns/{id}/export.csv", None),
)


async def test_agents_and_supervisors_get_a_403_and_admins_may_do_what_marketers_do(
    desk: Desk,
) -> None:
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    _, ada = await desk.agent("ada@example.com", role=Role.ADMIN)
    _, al = await desk.agent("al@example.com", role=Role.AGENT)
    _, sue = await desk.agent("sue@example.com", role=Role.SUPERVISOR)
    segment, _people = await audience(desk)
    status, draft = await call(
        desk, "POST", "/api/v1/campaigns", mia, {"name": "Mine", "segment_id": segment}
    )
    cid = draft["id"]
    for token in (al, sue):
        for method, path, body in ENDPOINTS:
            status, refused = await call(desk, method, path.format(id=cid), token, body)
            assert status == 403, (method, path, refused)
            assert refused["error"]["code"] == "forbidden"
            assert "marketers and admins" in refused["error"]["message"]
    status, seen = await call(desk, "GET", f"/api/v1/campaigns/{cid}", ada)
    assert (status, seen["name"]) == (200, "Mine")
    status, changed = await call(
        desk, "PATCH", f"/api/v1/campaigns/{cid}", ada, {"content": CONTENT}
    )
    assert status == 200, changed
    status, _made = await call(desk, "POST", "/api/v1/campaigns", ada, {"name": "Admin's"})
    assert status == 201
    status, listed = await call(desk, "GET", "/api/v1/campaigns", mia)
    assert [item["campaign"]["name"] for item in listed["items"]] == ["Admin's", "Mine"]
    status, _nobody = await call(desk, "GET", "/api/v1/campaigns", "not-a-token")
    assert status == 401


async def test_answers_match_the_openapi_document(desk: Desk) -> None:
    probe = Probe(desk)
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    _, al = await desk.agent("al@example.com")
    segment, people = await audience(desk)
    body = {"name": "Doc", "segment_id": segment, "content": CONTENT, "fallback": ["email"]}
    status, made = await probe("POST", "/api/v1/campaigns", mia, body)
    assert status == 201 and probe.request_errors == []
    assert (await probe("POST", "/api/v1/campaigns", mia, {"name": 1}))[0] == 422
    assert (await probe("GET", "/api/v1/campaigns", mia, query="?state=draft"))[0] == 200
    assert (await probe("GET", "/api/v1/campaigns", mia, query="?state=nope"))[0] == 400
    assert (await probe("GET", "/api/v1/campaigns", al))[0] == 403
    one = "/api/v1/campaigns/{id}"
    cid = made["id"]
    assert (await probe("GET", one, mia, id=cid))[0] == 200
    assert (await probe("GET", one, mia, id=999))[0] == 404
    assert (await probe("PATCH", one, mia, {"name": "Doc 2"}, id=cid))[0] == 200
    assert (await probe("POST", one + "/check", mia, id=cid))[0] == 200
    preview = {"channel": "email", "customer_id": people["ann"]}
    assert (await probe("POST", one + "/preview", mia, preview, id=cid))[0] == 200
    assert (await probe("POST", one + "/pause", mia, id=cid))[0] == 409
    later = {"scheduled_at": "soon"}
    assert (await probe("POST", one + "/schedule", mia, later, id=cid))[0] == 422
    assert (await probe("POST", one + "/send", mia, id=cid))[0] == 202

    async def done() -> bool:
        return bool((await probe("GET", one + "/progress", mia, id=cid))[1]["finished"])

    await eventually(done, 20, interval=0.05, what="campaign finished")
    status, results = await probe("GET", one + "/results", mia, id=cid)
    assert status == 200
    assert sum(point["sent"] for point in results["activity"]) == 2
    assert (await probe("POST", one + "/retry-unconfirmed", mia, id=cid))[0] == 200
    assert (await probe("POST", one + "/cancel", mia, id=cid))[0] == 409


async def test_a_running_send_pauses_resumes_and_finishes(make_desk: MakeDesk) -> None:
    slow = {"per_second": 2, "concurrency": 1}
    desk = await make_desk(
        **{
            "campaigns.poll_seconds": 0.05,
            "campaigns.quiet_hours": False,
            "campaigns.throttles": {kind: slow for kind in ("email", "memory")},
        }
    )
    assert desk.smtp is not None
    _, mia = await desk.agent("mia@example.com", role=Role.MARKETER, teams=())
    now = desk.hub.clock.now()
    for number in range(6):
        await add_person(desk.db, now, f"P{number}", {"email": f"p{number}@example.com"})
    segment = await add_segment(desk.db, now)
    status, draft = await call(
        desk,
        "POST",
        "/api/v1/campaigns",
        mia,
        {"name": "Slow", "segment_id": segment, "content": CONTENT},
    )
    cid = draft["id"]
    assert (await call(desk, "POST", f"/api/v1/campaigns/{cid}/send", mia))[0] == 202
    status, paused = await call(desk, "POST", f"/api/v1/campaigns/{cid}/pause", mia)
    assert (status, paused["state"]) == (200, "paused")
    await asyncio.sleep(1.5)  # what was in flight settles; nothing new starts
    _, held = await call(desk, "GET", f"/api/v1/campaigns/{cid}/progress", mia)
    assert held["state"] == "paused" and held["finished"] is False
    assert held["states"].get("pending", 0) >= 1
    assert "Not finished" in held["explanation"]
    status, resumed = await call(desk, "POST", f"/api/v1/campaigns/{cid}/resume", mia)
    assert (status, resumed["state"]) == (200, "sending")

    async def done() -> bool:
        # Every recipient accounted for, and the sender's next sweep has marked it finished.
        _, now = await call(desk, "GET", f"/api/v1/campaigns/{cid}/progress", mia)
        return bool(now["finished"]) and now["state"] == "finished"

    await eventually(done, 20, interval=0.05, what="campaign finished")
    _, final = await call(desk, "GET", f"/api/v1/campaigns/{cid}/progress", mia)
    assert (final["state"], final["states"]) == ("finished", {"sent": 6})
    assert len(desk.smtp.received) == 6
