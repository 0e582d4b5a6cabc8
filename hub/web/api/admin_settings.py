"""The admin console's settings API (admins): every editable setting with where its value comes
from, a change stored in the database (applied by every hub process), and back to the file."""

from __future__ import annotations

from typing import Any

from hub.admin import texts
from hub.admin.settings_store import EDITABLE, Entry, SettingInvalid
from hub.assembly import Hub
from hub.core.errors import invalid_field, not_found
from hub.db.models import Role
from hub.web.api.edge import Call, Doc, Endpoint, Requires, endpoint
from hub.web.api.models.admin_config import SettingEntry, SettingKey, SettingList, SettingValue

TAG = "Admin"
ADMINS = Requires(lambda caller: caller.role == Role.ADMIN, texts.ADMINS_ONLY)


def entry(item: Entry) -> SettingEntry:
    return SettingEntry(
        key=item.key,
        label=item.label,
        value=item.value,
        source=item.source,
        variable=item.variable,
        version=item.version,
        updated_by=item.updated_by,
        updated_at=item.updated_at,
    )


async def change_setting(hub: Hub, key: str, raw: Any, actor_id: int) -> Entry:
    """Check, store (audited) and apply in this process; raises an ApiError naming the field."""
    if key not in EDITABLE:
        raise not_found("setting", key)
    store = hub.settings_store
    try:
        async with hub.db.writer() as session:
            await store.save(session, key, raw, actor_id, hub.clock.now())
            await session.commit()
    except SettingInvalid as exc:
        raise invalid_field(exc.field, exc.problem) from None
    await store.refresh(hub.db)
    return next(item for item in store.entries() if item.key == key)


@endpoint(
    "GET",
    "/api/v1/admin/settings",
    Doc(
        TAG,
        "The settings an admin can change, each with where its value comes from",
        "listSettings",
        requires=ADMINS,
        ok={200: "The settings"},
        errors=(401, 403),
    ),
)
async def list_settings(call: Call) -> SettingList:
    await call.hub.settings_store.refresh(call.hub.db)
    return SettingList(items=[entry(item) for item in call.hub.settings_store.entries()])


@endpoint(
    "PUT",
    "/api/v1/admin/settings/{key}",
    Doc(
        TAG,
        "Change a setting; stored in the database and applied by every hub process",
        "putSetting",
        description="The value is shaped as in the config file. A value that does not fit, "
        "or names a calendar, policy or team that does not exist, is refused (422) naming "
        "the field; nothing is stored.",
        requires=ADMINS,
        ok={200: "The setting as now in force"},
        errors=(400, 401, 403, 404, 413, 422),
    ),
)
async def put_setting(call: Call, path: SettingKey, body: SettingValue) -> SettingEntry:
    if body.value is None:
        raise invalid_field("value", "is required (DELETE the setting to go back to the file)")
    return entry(await change_setting(call.hub, path.key, body.value, call.principal.agent_id))


@endpoint(
    "DELETE",
    "/api/v1/admin/settings/{key}",
    Doc(
        TAG,
        "Hand a setting back to the config file (or the default)",
        "resetSetting",
        requires=ADMINS,
        ok={200: "The setting as now in force"},
        errors=(401, 403, 404, 422),
    ),
)
async def reset_setting(call: Call, path: SettingKey) -> SettingEntry:
    return entry(await change_setting(call.hub, path.key, None, call.principal.agent_id))


ENDPOINTS: tuple[Endpoint, ...] = (list_settings, put_setting, reset_setting)
