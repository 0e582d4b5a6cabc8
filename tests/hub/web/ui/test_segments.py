"""The marketer's segment pages over real HTTP with a signed-in browser session: the list with
counts, saving from the editor's form (a wrong definition comes back inline, naming the
condition), the live preview the editor's script calls, the CSV import's per-row error table,
and a clear 403 page for agents."""

from __future__ import annotations

import json
import re

import aiohttp

from hub.db.campaign_models import Segment
from hub.db.models import Customer, Role
from tests.hub.web.ui.conftest import Ui, UiFactory
from tests.support.desk import Desk

VIP = {"all": [{"field": "tag", "op": "has", "value": "vip"}]}


def csv_form(ui: Ui, text: str) -> aiohttp.FormData:
    form = aiohttp.FormData()
    form.add_field("csrf_token", ui.token)
    form.add_field("file", text.encode(), filename="leads.csv", content_type="text/csv")
    return form


async def test_a_marketer_builds_a_segment_and_imports_customers_into_it(
    desk: Desk, ui_agent: UiFactory
) -> None:
    mia = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    editor = await mia.page("/ui/segments/new")
    assert 'id="segment-fields"' in editor and "Custom attribute" in editor
    saved = await mia.post(
        "/ui/segments", {"name": "VIPs", "description": "", "definition": json.dumps(VIP)}
    )
    assert saved.status == 303
    location = saved.headers["Location"]
    assert re.match(r"^/ui/segments/\d+\?notice=segment$", location)
    page = await mia.page(location)
    assert "Segment saved." in page and "Import customers from a CSV file" in page

    segment_path = location.split("?")[0]
    response = await mia.http.post(
        f"{segment_path}/import",
        data=csv_form(mia, "name,email,tags\nAna,ana@example.com,vip\nBo,bo@example.com,\n"),
    )
    page = await response.text()
    assert response.status == 200, page
    assert "Imported 2 rows: 2 new" in page
    listing = await mia.page("/ui/segments")
    # the segment now selects its VIP tag and the customers imported into it
    assert re.search(r'data-count="\d+">2<', listing)
    counted = await mia.http.get(f"{segment_path}/count", headers={"Accept": "application/json"})
    assert (await counted.json())["count"] == 2

    preview = await mia.http.post(
        "/ui/segments/preview",
        json={"definition": VIP},
        headers={"X-CSRF-Token": mia.token, "Accept": "application/json"},
    )
    shown = await preview.json()
    assert (preview.status, shown["count"]) == (200, 1)
    assert shown["sample"][0]["identities"] == [{"kind": "email", "address": "ana@example.com"}]


async def test_mistakes_come_back_inline_naming_the_condition_or_row(
    desk: Desk, ui_agent: UiFactory
) -> None:
    admin = await ui_agent("ada@example.com", role=Role.ADMIN, teams=())
    wrong = {"all": [{"field": "tag", "op": "has", "value": "vip"}, {"field": "tier"}]}
    response = await admin.post("/ui/segments", {"name": "Broken", "definition": json.dumps(wrong)})
    page = await response.text()
    assert response.status == 422
    assert "efinition.all[1].op: tier takes eq, ne, in, contains" in page
    assert 'value="Broken"' in page  # what was typed is kept
    assert await desk.count(Segment) == 0

    preview = await admin.http.post(
        "/ui/segments/preview",
        json={"definition": wrong},
        headers={"X-CSRF-Token": admin.token, "Accept": "application/json"},
    )
    assert preview.status == 422
    assert (await preview.json())["error"]["fields"] == {
        "definition.all[1].op": "tier takes eq, ne, in, contains"
    }

    created = await admin.post("/ui/segments", {"name": "Leads", "kind": "import"})
    segment_path = created.headers["Location"].split("?")[0]
    await admin.page(segment_path)
    response = await admin.http.post(
        f"{segment_path}/import",
        data=csv_form(admin, "email,tier\nana@example.com,gold\nbo@example,diamond\n"),
    )
    page = await response.text()
    assert response.status == 422
    assert "nothing was imported" in page.lower()
    assert "<td>3</td><td><code>email</code></td>" in page
    assert "<td>3</td><td><code>tier</code></td>" in page
    assert await desk.count(Customer) == 0


async def test_a_form_without_its_csrf_token_is_refused(desk: Desk, ui_agent: UiFactory) -> None:
    mia = await ui_agent("mia@example.com", role=Role.MARKETER, teams=())
    response = await mia.http.post(
        "/ui/segments", data={"name": "X", "definition": json.dumps(VIP)}, allow_redirects=False
    )
    assert response.status == 403
    assert await desk.count(Segment) == 0


async def test_agents_get_a_clear_403_page(desk: Desk, ui_agent: UiFactory) -> None:
    al = await ui_agent("al@example.com")
    for path in ("/ui/segments", "/ui/segments/new"):
        response = await al.get(path)
        page = await response.text()
        assert response.status == 403
        assert "Not allowed" in page
        assert "may not work with segments and customer imports (marketers and admins)" in page
    assert 'href="/ui/segments"' not in await al.page("/ui/inbox")
