"""Ids in the web app's paths, queries and forms are plain ASCII digits within the database's
integer range: Arabic-Indic or superscript digits do not alias another id, and an id past
2^31 - 1 (or thousands of digits long) is a 404 or a field error, never a 500."""

from __future__ import annotations

import pytest

from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
BAD = ["{arabic}", "²", "2147483648", "99999999999999999", "9" * 5000, "-1", "0x1", " 1"]


def variants(real: int) -> list[str]:
    return [raw.format(arabic=str(real).translate(ARABIC)) for raw in BAD]


async def test_ids_in_paths_are_ascii_digits_within_range(desk: Desk, ui_agent: UiFactory) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN)
    stored = await inbound(desk, "Hello")
    real = stored.conversation_id
    assert (await boss.get(f"/ui/conversations/{real}")).status == 200
    for raw in variants(real):
        for path in (
            f"/ui/conversations/{raw}",
            f"/ui/conversations/{raw}/live",
            f"/ui/attachments/{raw}/0",
            f"/ui/attachments/{stored.message_id}/{raw}",
            f"/ui/admin/agents/{raw}",
            f"/ui/admin/agents/{raw}/deactivate",
        ):
            response = await boss.get(path)
            assert response.status == 404, (path, response.status, await response.text())
        for path in (
            f"/ui/conversations/{raw}/status",
            f"/ui/messages/{raw}/retry",
            f"/ui/canned/{raw}/delete",
            f"/ui/customers/{raw}/merge",
            f"/ui/merges/{raw}/undo",
            f"/ui/admin/agents/{raw}/reset",
            f"/ui/admin/agents/{raw}/deactivate",
            f"/ui/admin/agents/1/tokens/{raw}/revoke",
            f"/ui/admin/teams/{raw}",
            f"/ui/admin/teams/{raw}/members",
        ):
            form = {"status": "open", "other": "1", "name": "Team", "agent_id": "1"}
            response = await boss.post(path, form)
            assert response.status == 404, (path, response.status, await response.text())


@pytest.mark.parametrize("raw", ["٢", "²", "2147483648", "99999999999999999", "9" * 5000])
async def test_ids_in_queries_and_forms_are_refused_or_ignored(
    desk: Desk, ui_agent: UiFactory, raw: str
) -> None:
    boss = await ui_agent("boss@example.com", role=Role.ADMIN)
    stored = await inbound(desk, "Hello")
    cid = stored.conversation_id
    assignee = (await desk.conversation(cid)).assignee_id
    for path in (
        f"/ui/conversations/{cid}?before={raw}",
        f"/ui/canned/search?conversation={raw}&q=",
        f"/ui/inbox?team={raw}",
        f"/ui/inbox?assignee={raw}",
    ):
        response = await boss.get(path)
        assert response.status < 500, (path, response.status, await response.text())
    for path, form in (
        (f"/ui/conversations/{cid}/assign", {"agent": raw}),
        (f"/ui/conversations/{cid}/transfer", {"team": raw}),
        (f"/ui/conversations/{cid}/reply", {"text": "hi", "route": raw}),
        (f"/ui/customers/{stored.customer_id}/merge", {"other": raw}),
        ("/ui/inbox/bulk", {"ids": raw, "action": "resolve"}),
        ("/ui/admin/agents", {"email": "a@example.com", "name": "A", "team": raw}),
        ("/ui/admin/teams/1/members", {"agent_id": raw}),
    ):
        response = await boss.post(path, form)
        assert response.status < 500, (path, response.status, await response.text())
    assert (await desk.conversation(cid)).assignee_id == assignee
