"""The routing rules page: an admin sees the rules in order, adds one (a rule that cannot match
is refused beside the field, nothing saved), edits, moves, disables and deletes rules, each
change audited; the dry run names the rule that would fire and the team and priority."""

from __future__ import annotations

from hub.core.audit import recent_changes
from hub.db.models import Role
from tests.hub.web.ui.conftest import UiFactory, inbound
from tests.support.desk import Desk

RULE = {
    "name": "refunds",
    "channels": "api",
    "keywords": "chargeback, reversal",
    "team": "billing",
    "priority": "high",
    "enabled": "on",
}


async def rule_names(desk: Desk) -> list[str]:
    assert desk.hub.routing is not None
    async with desk.db.reader() as session:
        _, ruleset = await desk.hub.routing.engine.rules.current(session)
    return [r.name + ("" if r.enabled else " (off)") for r in ruleset.rules]


async def test_an_admin_builds_and_tries_the_rules(desk: Desk, ui_agent: UiFactory) -> None:
    admin = await ui_agent("admin@example.com", role=Role.ADMIN, teams=("support", "billing"))
    page = await admin.page("/ui/admin/routing")
    assert "billing questions" in page and "config file" in page
    before = await rule_names(desk)

    no_condition = await admin.post("/ui/admin/routing/rules", {"name": "all", "enabled": "on"})
    assert no_condition.status == 422
    assert "has no condition" in await no_condition.text()
    unknown_team = await admin.post("/ui/admin/routing/rules", {**RULE, "team": "vip"})
    assert unknown_team.status == 422
    assert "no team named &#39;vip&#39;" in await unknown_team.text()
    bad_regex = await admin.post("/ui/admin/routing/rules", {**RULE, "regex": "(open"})
    assert bad_regex.status == 422 and "not a valid regular expression" in await bad_regex.text()
    assert await rule_names(desk) == before

    added = await admin.post("/ui/admin/routing/rules", RULE)
    assert added.status == 303
    assert await rule_names(desk) == [*before, "refunds"]
    moved = await admin.post("/ui/admin/routing/rules/action", {"name": "refunds", "action": "up"})
    assert moved.status == 303
    assert (await rule_names(desk))[-2] == "refunds"
    off = await admin.post(
        "/ui/admin/routing/rules/action", {"name": "refunds", "action": "disable"}
    )
    assert off.status == 303 and "refunds (off)" in await rule_names(desk)
    edit_page = await admin.page("/ui/admin/routing?edit=refunds")
    assert "Edit rule refunds" in edit_page and 'value="chargeback, reversal"' in edit_page
    edited = await admin.post(
        "/ui/admin/routing/rules", {**RULE, "editing": "refunds", "priority": "urgent"}
    )
    assert edited.status == 303 and "refunds" in await rule_names(desk)

    dry = await admin.post(
        "/ui/admin/routing/dry-run",
        {
            "channel": "api",
            "from": "jane@example.com",
            "subject": "",
            "text": "About the chargeback",
        },
    )
    text = await dry.text()
    assert dry.status == 200
    assert "refunds</strong> would fire" in text and "<strong>billing</strong>" in text
    assert "<strong>urgent</strong>" in text
    past = await inbound(desk, "A reversal on my card?", channel="api")
    by_id = await admin.post("/ui/admin/routing/dry-run", {"message_id": str(past.message_id)})
    assert "refunds</strong> would fire" in await by_id.text()
    missing = await admin.post("/ui/admin/routing/dry-run", {"message_id": "999999"})
    assert missing.status == 422 and "no message with id 999999" in await missing.text()

    deleted = await admin.post(
        "/ui/admin/routing/rules/action", {"name": "refunds", "action": "delete"}
    )
    assert deleted.status == 303 and await rule_names(desk) == before
    async with desk.db.reader() as session:
        changes = await recent_changes(session, area="routing")
    assert [c.action for c in changes] == ["delete", "edit", "disable", "move", "create"]
    assert '"priority": "urgent"' in changes[1].new and '"priority": "high"' in changes[1].old
