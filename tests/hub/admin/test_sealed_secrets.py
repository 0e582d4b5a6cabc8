"""A channel secret an admin replaces is stored sealed: the database row holds no plaintext
token, yet the channel takes the new token in this hub process and in another one; a row
written in the clear before sealing keeps working and is sealed at the next save; a row sealed
under another secret_key is left out (the channel runs on the file's value)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hub.admin.sealed_secrets import PREFIX, seal_secrets
from hub.admin.settings_store import SECRETS_KEY
from hub.db.models import Role
from hub.db.settings_models import SettingOverride
from tests.support.desk import Desk, MakeDesk, auth

FILE_TOKEN = "demo-inbound-token-0123456789"  # the example config's API channel
NEW = "a-brand-new-inbound-token-42"
OLDER = "an-older-plaintext-token-77"


def message(n: int) -> dict[str, object]:
    return {"external_id": f"s-{n}", "from": {"address": "jane@example.com"}, "text": "Hi"}


async def accepts(desk: Desk, token: str, n: int) -> bool:
    response = await desk.client.post(
        "/api/v1/inbound/api", json=message(n), headers={"Authorization": f"Bearer {token}"}
    )
    return response.status in (200, 201, 202)


async def stored_row(desk: Desk) -> str:
    async with desk.db.reader() as session:
        row = await session.get(SettingOverride, SECRETS_KEY)
        assert row is not None
        return json.dumps(row.value)


async def test_a_replaced_token_is_sealed_in_the_database_and_still_works(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk()
    other = await make_desk()  # a second hub process on the same database
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    replaced = await desk.client.put(
        "/api/v1/admin/channels/api/secrets/token", json={"value": NEW}, headers=auth(admin)
    )
    assert replaced.status == 200

    raw = await stored_row(desk)
    assert NEW not in raw and PREFIX in raw
    await other.hub.settings_store.refresh(other.hub.db)
    for n, hub_desk in enumerate((desk, other)):
        assert await accepts(hub_desk, NEW, n)
        assert not await accepts(hub_desk, FILE_TOKEN, n + 10)


async def test_a_plaintext_row_from_before_keeps_working_and_is_sealed_at_the_next_save(
    make_desk: MakeDesk,
) -> None:
    desk = await make_desk()
    _, admin = await desk.agent("admin@example.com", role=Role.ADMIN)
    async with desk.db.writer() as session:
        session.add(
            SettingOverride(
                key=SECRETS_KEY,
                value={"api": {"token": OLDER}},
                version=1,
                updated_at=datetime.now(UTC),
            )
        )
        await session.commit()
    await desk.hub.settings_store.refresh(desk.hub.db)
    assert await accepts(desk, OLDER, 1)

    saved = await desk.client.put(
        "/api/v1/admin/channels/mail/secrets/smtp_password",
        json={"value": "mail-password-1"},
        headers=auth(admin),
    )
    assert saved.status == 200
    raw = await stored_row(desk)
    assert OLDER not in raw and "mail-password-1" not in raw
    assert await accepts(desk, OLDER, 2)  # the older token stays, sealed now


async def test_a_row_sealed_under_another_secret_key_is_left_out(make_desk: MakeDesk) -> None:
    desk = await make_desk()
    foreign = seal_secrets("another-secret-key-0123456789", {"api": {"token": NEW}})
    async with desk.db.writer() as session:
        session.add(
            SettingOverride(key=SECRETS_KEY, value=foreign, version=1, updated_at=datetime.now(UTC))
        )
        await session.commit()
    await desk.hub.settings_store.refresh(desk.hub.db)
    assert not await accepts(desk, NEW, 1)
    assert await accepts(desk, FILE_TOKEN, 2)


OLD_KEY = "demo-secret-change-me-0123456789abcdef"  # the example config's secret_key
NEW_KEY = "a-new-secret-key-after-rotation-9876543210"


async def test_after_secret_key_changes_the_old_key_keeps_secrets_readable_until_resealed(
    make_desk: MakeDesk,
) -> None:
    """An operator changes secret_key and lists the old one in previous_secret_keys: the
    channel keeps the token an admin replaced; the next save seals every secret under the new
    key, after which the old key can go. Without the old key listed the token is unreadable."""
    before = await make_desk()
    _, admin = await before.agent("admin@example.com", role=Role.ADMIN)
    replaced = await before.client.put(
        "/api/v1/admin/channels/api/secrets/token", json={"value": NEW}, headers=auth(admin)
    )
    assert replaced.status == 200

    forgotten = await make_desk(secret_key=NEW_KEY)  # the old key dropped too soon
    assert not await accepts(forgotten, NEW, 1) and await accepts(forgotten, FILE_TOKEN, 2)

    rotated = await make_desk(secret_key=NEW_KEY, previous_secret_keys=[OLD_KEY])
    assert await accepts(rotated, NEW, 3)
    _, admin = await rotated.agent("admin2@example.com", role=Role.ADMIN)
    saved = await rotated.client.put(
        "/api/v1/admin/channels/mail/secrets/smtp_password",
        json={"value": "mail-password-2"},
        headers=auth(admin),
    )
    assert saved.status == 200

    after = await make_desk(secret_key=NEW_KEY)  # the old key is no longer needed
    assert await accepts(after, NEW, 4)
    assert not await accepts(after, FILE_TOKEN, 5)
