"""Channels for the admin console (admins): status, the endpoint to give the provider, secrets
as set or not (replaced, never echoed: not in answers, pages or the audit log), and a test send."""

from __future__ import annotations

from hub.admin import channels as service
from hub.admin.settings_store import SettingInvalid
from hub.assembly import Hub
from hub.core.errors import invalid_field, not_found
from hub.web.api.admin_settings import ADMINS
from hub.web.api.edge import Call, Doc, Endpoint, endpoint
from hub.web.api.models.admin_config import (
    ChannelInfo,
    ChannelList,
    ChannelName,
    NewSecret,
    SecretPath,
    SecretState,
    TestResult,
    TestSend,
)

TAG = "Admin"


def info(status: service.ChannelStatus) -> ChannelInfo:
    return ChannelInfo(
        name=status.name,
        kind=status.kind,
        title=status.title,
        last_message_in=status.last_in,
        last_delivery=status.last_delivery,
        last_error=status.last_error,
        last_error_at=status.last_error_at,
        endpoint=status.endpoint,
        secrets=[SecretState(field=s.field, set=s.is_set) for s in status.secrets],
    )


async def channel_statuses(hub: Hub) -> list[service.ChannelStatus]:
    await hub.settings_store.refresh(hub.db)
    async with hub.db.reader() as session:
        return await service.statuses(session, hub.settings)


async def replace_secret(hub: Hub, name: str, field: str, value: str, actor_id: int) -> None:
    """Store and apply; raises an ApiError naming the field."""
    try:
        async with hub.db.writer() as session:
            await hub.settings_store.save_secret(
                session, name, field, value, actor_id, hub.clock.now()
            )
            await session.commit()
    except SettingInvalid as exc:
        field_name = "value" if exc.field.startswith("channels.") else exc.field
        raise invalid_field(field_name, exc.problem) from None
    await hub.settings_store.refresh(hub.db)


async def test_send(hub: Hub, name: str, to: str) -> TestResult:
    config = hub.settings.channels.get(name)
    channel = hub.channels.get(name)
    if config is None or channel is None:
        raise not_found("channel", name)
    result = await service.send_test(
        channel, name, config, to, hub.settings.instance_name, hub.clock.now()
    )
    return TestResult(ok=result.ok, error=result.error)


@endpoint(
    "GET",
    "/api/v1/admin/channels",
    Doc(
        TAG,
        "Every configured channel with its status",
        "listAdminChannels",
        requires=ADMINS,
        ok={200: "The channels"},
        errors=(401, 403),
    ),
)
async def list_channels(call: Call) -> ChannelList:
    return ChannelList(items=[info(s) for s in await channel_statuses(call.hub)])


@endpoint(
    "PUT",
    "/api/v1/admin/channels/{name}/secrets/{field}",
    Doc(
        TAG,
        "Replace a channel secret (token, signing secret, password)",
        "putChannelSecret",
        description="Stored in the database and applied by every hub process; the value is "
        "never shown again (not in answers, pages or the audit log).",
        requires=ADMINS,
        ok={200: "The channel"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def put_secret(call: Call, path: SecretPath, body: NewSecret) -> ChannelInfo:
    if path.name not in call.hub.settings.channels:
        raise not_found("channel", path.name)
    await replace_secret(call.hub, path.name, path.field, body.value, call.principal.agent_id)
    found = [s for s in await channel_statuses(call.hub) if s.name == path.name]
    return info(found[0])


@endpoint(
    "POST",
    "/api/v1/admin/channels/{name}/test",
    Doc(
        TAG,
        "Send a test message through a channel to an address or chat",
        "testChannel",
        description="ok false with the provider's error when it was not delivered.",
        requires=ADMINS,
        ok={200: "What the provider answered"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def send_test(call: Call, path: ChannelName, body: TestSend) -> TestResult:
    return await test_send(call.hub, path.name, body.to)


ENDPOINTS: tuple[Endpoint, ...] = (list_channels, put_secret, send_test)
