"""The live operations view on a small history whose figures are worked out by hand: per team
and channel the open, unassigned and waiting conversations, the longest wait and the SLA at
risk or breached; per agent the load, last reply and assignments today. Each number links to
the conversations behind it; a supervisor reassigns from the view; agents and marketers are
refused with a clear page, and a supervisor limited to their teams sees only those.

The history (Monday 5 January 2026, UTC; the SLA targets of config/relaydesk.toml):

- A 09:00 mail "The site is down": support, urgent (first response due 09:15), unassigned.
- B 09:01 mail about an invoice: billing, high (due 10:01), given to Bob at 09:05.
- C 09:10 contact form: support, normal; given to Sue, who replies at 09:12.
- D 09:15 mail: support, normal; given to Sue, set pending at 09:20 (waiting for the customer).
- E 09:20 mail: resolved at 09:25.
- F 09:30 mail: support, normal (due 17:30), unassigned.

At 09:40, with a 30-minute risk margin: A has breached, B is at risk (21 minutes left), A and F
wait for us in support (A longest: 40 minutes), B in billing (39 minutes); C and D wait for the
customer. The acknowledgements the hub sent are automated and are no reply."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from hub.config.settings import Settings
from hub.db.models import Conversation, Presence, Role, Team
from hub.platform.clock import ManualClock
from tests.conftest import fake_endpoints, make_settings
from tests.hub.web.test_openapi import Probe
from tests.hub.web.ui.conftest import PASSWORD, Ui, UiFactory, inbound, sign_in
from tests.support.desk import Desk, MakeDesk, auth
from tests.support.recorder import HttpRecorder
from tests.support.smtp import SmtpSink

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIGURES = ("open", "unassigned", "waiting_us", "waiting_customer", "sla_at_risk", "sla_breached")
QUIET = {
    "routing.assignment.reassign_offline": False,
    "live.activity_write_seconds": 0,
    "followups.rules": [],
}


@pytest.fixture
def desk_clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def settings(database_url: str, smtp_sink: SmtpSink, callback_server: HttpRecorder) -> Settings:
    return make_settings(database_url, **fake_endpoints(smtp_sink, callback_server), **QUIET)


class History:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.ids: dict[str, int] = {}
        self.teams: dict[str, int] = {}

    async def at(self, minute: int) -> None:
        self.desk.clock.current = T0 + timedelta(minutes=minute)

    async def write(self, name: str, minute: int, text: str, channel: str = "mail") -> None:
        await self.at(minute)
        result = await inbound(
            self.desk, text, email=f"{name.lower()}@customer.example", name=name, channel=channel
        )
        self.ids[name] = result.conversation_id

    async def patch(self, name: str, token: str, body: dict[str, Any]) -> None:
        response = await self.desk.client.patch(
            f"/api/v1/conversations/{self.ids[name]}", json=body, headers=auth(token)
        )
        assert response.status == 200, await response.text()

    async def reply(self, name: str, token: str, text: str) -> None:
        response = await self.desk.client.post(
            f"/api/v1/conversations/{self.ids[name]}/messages",
            json={"text": text},
            headers=auth(token),
        )
        assert response.status == 201, await response.text()


async def build_history(desk: Desk) -> tuple[History, dict[str, tuple[int, str]]]:
    people = {
        "ada": await desk.agent(
            "ada@example.com",
            role=Role.ADMIN,
            teams=(),
            presence=Presence.OFFLINE,
            password=PASSWORD,
        ),
        "sue": await desk.agent("sue@example.com", presence=Presence.OFFLINE),
        "bob": await desk.agent("bob@example.com", teams=("billing",), presence=Presence.OFFLINE),
    }
    admin = people["ada"][1]
    history = History(desk)
    await history.write("A", 0, "The site is down, nothing loads")
    await history.write("B", 1, "Question about my invoice from December")
    await history.at(5)
    await history.patch("B", admin, {"assignee_id": people["bob"][0]})
    await history.write("C", 10, "Hello, which colours does the lamp come in?", channel="contact")
    await history.patch("C", admin, {"assignee_id": people["sue"][0]})
    await history.at(12)
    await history.reply("C", people["sue"][1], "Red, green and blue.")
    await history.write("D", 15, "Can you help me set up my account?")
    await history.patch("D", admin, {"assignee_id": people["sue"][0]})
    await history.at(20)
    await history.patch("D", people["sue"][1], {"status": "pending"})
    await history.write("E", 20, "All good now, thanks for the help")
    await history.at(25)
    await history.patch("E", admin, {"status": "resolved"})
    await history.write("F", 30, "Where do I find the settings page?")
    await history.at(40)
    await desk.run_jobs()  # SLA due times as the monitor keeps them
    async with desk.db.reader() as session:
        history.teams = {
            slug: key for slug, key in await session.execute(select(Team.slug, Team.id))
        }
    return history, people


def _counts(line: dict[str, Any]) -> dict[str, Any]:
    return {name: line[name] for name in (*FIGURES, "longest_wait_seconds")}


async def test_figures_match_the_hand_computed_history(
    desk: Desk, browser_session: Callable[[], aiohttp.ClientSession]
) -> None:
    history, people = await build_history(desk)
    async with desk.db.reader() as session:
        conversations = {c.id: c for c in (await session.scalars(select(Conversation))).all()}
    assert conversations[history.ids["A"]].priority == "urgent"
    assert conversations[history.ids["B"]].team_id == history.teams["billing"]

    probe = Probe(desk)  # every answer is checked against the OpenAPI document
    status, live = await probe("GET", "/api/v1/live", people["ada"][1])
    assert status == 200
    teams = {line["label"]: line for line in live["teams"]}
    channels = {line["key"]: line for line in live["channels"]}
    assert _counts(teams["Support"]) == {
        "open": 4,  # A, C, D, F
        "unassigned": 2,  # A, F
        "waiting_us": 2,  # A, F
        "waiting_customer": 2,  # C (Sue replied), D (pending)
        "sla_at_risk": 0,
        "sla_breached": 1,  # A
        "longest_wait_seconds": 40 * 60,
    }
    assert _counts(teams["Billing"]) == {
        "open": 1,
        "unassigned": 0,
        "waiting_us": 1,
        "waiting_customer": 0,
        "sla_at_risk": 1,  # B: due 10:01
        "sla_breached": 0,
        "longest_wait_seconds": 39 * 60,
    }
    assert _counts(live["total"]) == {
        "open": 5,
        "unassigned": 2,
        "waiting_us": 3,
        "waiting_customer": 2,
        "sla_at_risk": 1,
        "sla_breached": 1,
        "longest_wait_seconds": 40 * 60,
    }
    assert _counts(channels["mail"]) | {"longest_wait_seconds": None} == {
        "open": 4,
        "unassigned": 2,
        "waiting_us": 3,
        "waiting_customer": 1,
        "sla_at_risk": 1,
        "sla_breached": 1,
        "longest_wait_seconds": None,
    }
    assert channels["contact"]["waiting_customer"] == 1 and channels["contact"]["open"] == 1
    assert channels["api"]["open"] == 0  # configured channels show, also when quiet
    agents = {line["name"]: line for line in live["agents"]}
    assert {
        name: (a["open_count"], a["capacity"], a["last_reply_at"], a["assigned_today"])
        for name, a in agents.items()
    } == {
        "Ada": (0, 10, None, 0),
        "Sue": (2, 10, (T0 + timedelta(minutes=12)).isoformat(), 2),
        "Bob": (1, 10, None, 1),
    }
    assert live["scope"] == "all" and live["sla_risk_minutes"] == 30

    # The conversations behind a number, through the API too.
    support = history.teams["support"]
    drill = "/api/v1/live/conversations"
    query = f"?figure=waiting_us&team={support}"
    status, listed = await probe("GET", drill, people["ada"][1], query=query)
    assert [c["id"] for c in listed["items"]] == [history.ids["A"], history.ids["F"]]
    status, listed = await probe("GET", drill, people["ada"][1], query="?figure=sla_breached")
    assert [c["id"] for c in listed["items"]] == [history.ids["A"]]
    status, refused = await probe("GET", drill, people["ada"][1], query="?figure=late")
    assert status == 400 and "figure" in refused["error"]["fields"]
    status, _ = await probe("GET", "/api/v1/live", people["sue"][1])
    assert status == 403

    # The page shows the same numbers, each a link to its conversations.
    ada = await signed_in(browser_session, "ada@example.com", people["ada"][0])
    page = await ada.page("/ui/live")
    assert _cell(page, f'data-team="{support}"', "waiting_us") == "2"
    assert _cell(page, f'data-team="{support}"', "sla_breached") == "1"
    assert _cell(page, 'data-team="all"', "open") == "5"
    assert _cell(page, 'data-channel="mail"', "waiting_us") == "3"
    assert f'href="/ui/live/conversations?figure=waiting_us&amp;team={support}"' in page
    assert "40 min" in page

    listed = await ada.page(f"/ui/live/conversations?figure=waiting_us&team={support}")
    assert _conversations(listed) == [history.ids["A"], history.ids["F"]]  # longest first
    listed = await ada.page("/ui/live/conversations?figure=sla_at_risk")
    assert _conversations(listed) == [history.ids["B"]]
    listed = await ada.page("/ui/live/conversations?figure=waiting_customer&channel=contact")
    assert _conversations(listed) == [history.ids["C"]]
    assert (await ada.get("/ui/live/conversations?figure=bogus")).status == 400


async def signed_in(new: Callable[[], aiohttp.ClientSession], email: str, agent_id: int) -> Ui:
    http = new()
    assert (await sign_in(http, email, PASSWORD)).status == 303
    return Ui(http, agent_id)


def _cell(page: str, row: str, figure: str) -> str:
    start = page.index(row)
    end = page.index("</tr>", start)
    found = re.search(rf'data-figure="{figure}"><a [^>]*>(\d+)</a>', page[start:end])
    assert found is not None, (row, figure)
    return found.group(1)


def _conversations(page: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-conversation="(\d+)"', page)]


async def test_agents_and_marketers_are_refused_with_a_clear_page(
    desk: Desk, ui_agent: UiFactory
) -> None:
    for role in (Role.AGENT, Role.MARKETER):
        person = await ui_agent(f"{role.value}@example.com", role=role)
        for path in ("/ui/live", "/ui/live/figures", "/ui/live/conversations?figure=open"):
            response = await person.get(path)
            assert response.status == 403, path
            page = await response.text()
            assert "Not allowed" in page
            assert "live operations view (it is for supervisors and admins)" in page
        response = await person.post("/ui/live/conversations/1/assign", {"agent": "none"})
        assert response.status == 403
        assert "Live</a>" not in await person.page("/ui/canned")  # no link to it either
    _, token = await desk.agent("api-agent@example.com")
    response = await desk.client.get("/api/v1/live", headers=auth(token))
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "forbidden"
    assert (await desk.client.get("/api/v1/live")).status == 401


async def test_a_supervisor_reassigns_from_the_view(desk: Desk, ui_agent: UiFactory) -> None:
    history, people = await build_history(desk)
    # In no team, so routing gives the supervisor nothing while the test runs.
    sam = await ui_agent("sam@example.com", role=Role.SUPERVISOR, teams=())
    page = await sam.page("/ui/live")
    assert "Live</a>" in page
    a = history.ids["A"]
    assert f'action="/ui/live/conversations/{a}/assign"' in page  # among the longest waiting
    response = await sam.post(
        f"/ui/live/conversations/{a}/assign", {"agent": str(people["bob"][0]), "back": "/ui/live"}
    )
    assert response.status == 303
    assert response.headers["Location"] == "/ui/live?notice=assigned"
    assert (await desk.conversation(a)).assignee_id == people["bob"][0]
    support = history.teams["support"]
    page = await sam.page("/ui/live")
    assert _cell(page, f'data-team="{support}"', "unassigned") == "1"  # only F now
    assert "Assigned to Bob" in await sam.page(f"/ui/conversations/{a}")

    # Unassigning works the same way; a form without its CSRF token is refused.
    response = await sam.post(f"/ui/live/conversations/{a}/assign", {"agent": "none"})
    assert response.status == 303 and (await desk.conversation(a)).assignee_id is None
    bare = await sam.http.post(
        f"/ui/live/conversations/{a}/assign", data={"agent": "2"}, allow_redirects=False
    )
    assert bare.status == 403 and (await desk.conversation(a)).assignee_id is None
    response = await sam.post(f"/ui/live/conversations/{a}/assign", {"agent": "99999"})
    assert response.status == 422
    assert (await sam.post("/ui/live/conversations/99999/assign", {"agent": "none"})).status == 404


@pytest.mark.parametrize("scope", ["teams"])
async def test_a_supervisor_limited_to_their_teams_sees_only_those(
    make_desk: MakeDesk, scope: str
) -> None:
    desk = await make_desk(**QUIET, **{"live.supervisor_scope": scope})
    history, people = await build_history(desk)
    sam_id, sam_token = await desk.agent(
        "sam@example.com", role=Role.SUPERVISOR, teams=("support",), password=PASSWORD
    )
    response = await desk.client.get("/api/v1/live", headers=auth(sam_token))
    live = await response.json()
    assert live["scope"] == "teams" and live["team_ids"] == [history.teams["support"]]
    assert [line["label"] for line in live["teams"]] == ["Support"]
    assert live["total"]["open"] == 4 and live["total"]["sla_at_risk"] == 0  # not B (billing)
    assert sorted(line["name"] for line in live["agents"]) == ["Sam", "Sue"]  # not Bob, not Ada

    http = aiohttp.ClientSession(
        base_url=str(desk.client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
    )
    try:
        assert (await sign_in(http, "sam@example.com", PASSWORD)).status == 303
        sam = Ui(http, sam_id)
        page = await sam.page("/ui/live")
        assert f'data-team="{history.teams["billing"]}"' not in page
        billing = history.teams["billing"]
        response = await sam.get(f"/ui/live/conversations?figure=open&team={billing}")
        assert response.status == 403
        response = await desk.client.get(
            f"/api/v1/live/conversations?figure=open&team={billing}", headers=auth(sam_token)
        )
        assert response.status == 403
        assert (await sam.get("/ui/live/conversations?figure=open&team=x")).status == 400
        listed = await sam.page("/ui/live/conversations?figure=open")
        assert history.ids["B"] not in _conversations(listed)
        b = history.ids["B"]
        response = await sam.post(f"/ui/live/conversations/{b}/assign", {"agent": "none"})
        assert response.status == 404  # not theirs to see
        assert (await desk.conversation(b)).assignee_id == people["bob"][0]
    finally:
        await http.close()
