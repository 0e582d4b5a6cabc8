"""Two hub processes on one database: an admin changes settings through one, the other applies
them without a restart when it next looks (what its settings worker does every few seconds),
and a hub started later begins with them: they survive restarts."""

from __future__ import annotations

from hub.db.models import Role
from hub.db.routing_models import SlaClock
from tests.support.desk import MakeDesk, auth

TARGETS = {
    "low": {"first_response_minutes": 1440, "resolution_minutes": 10080},
    "normal": {"first_response_minutes": 45, "resolution_minutes": 600},
    "high": {"first_response_minutes": 60, "resolution_minutes": 1440},
    "urgent": {"first_response_minutes": 15, "resolution_minutes": 240},
}


async def test_a_change_through_one_hub_is_applied_by_the_other(make_desk: MakeDesk) -> None:
    first = await make_desk(memory=("api",), sla_policies=[])
    second = await make_desk(memory=("api",), sla_policies=[])  # its own settings object
    assert first.settings is not second.settings
    _, admin = await first.agent("admin@example.com", role=Role.ADMIN)
    for key, value in (("instance_name", "Acme Help"), ("sla", TARGETS)):
        response = await first.client.put(
            f"/api/v1/admin/settings/{key}", json={"value": value}, headers=auth(admin)
        )
        assert response.status == 200

    assert second.settings.instance_name == "Relaydesk Demo"  # not looked yet
    assert await second.hub.settings_store.refresh(second.hub.db)
    assert second.settings.instance_name == "Acme Help"
    assert "Acme Help" in await (await second.client.get("/ui/login")).text()
    opened = await second.customer_writes("Where is my parcel?", channel="api")
    async with second.db.reader() as session:
        clock = await session.get(SlaClock, opened.conversation_id)
    assert clock is not None and clock.policy == "default normal"
    assert clock.first_due_at is not None
    assert (clock.first_due_at - clock.started_at).total_seconds() == 45 * 60
    assert not await second.hub.settings_store.refresh(second.hub.db)  # nothing new

    restarted = await make_desk(memory=("api",))
    assert restarted.settings.instance_name == "Acme Help"
    assert restarted.settings.sla["normal"].first_response_minutes == 45
