"""``relaydesk secrets reseal``'s work: the sealed channel secrets of the settings overlay
sealed again under the current ``secret_key`` (those under one of ``previous_secret_keys``,
and plain ones of old), in one transaction, audited as the system; other hub processes take
the row's new version as any overlay change. See docs/admin-settings.md, "Changing
secret_key"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hub.admin.sealed_secrets import Resealed, reseal
from hub.admin.settings_store import SECRETS_KEY
from hub.config.settings import Settings
from hub.core.audit import record_change
from hub.db.settings_models import SettingOverride


async def reseal_stored(
    session: AsyncSession,
    settings: Settings,
    now: datetime,
    progress: Callable[[str, str], None] | None = None,
) -> Resealed:
    """Re-seal the stored channel secrets (the row locked); committed by the caller."""
    row = await session.scalar(
        select(SettingOverride).where(SettingOverride.key == SECRETS_KEY).with_for_update()
    )
    if row is None:
        return Resealed()
    done = reseal(settings.secret_key, row.value, settings.previous_secret_keys, progress)
    if done.changed:
        row.value, row.version, row.updated_at, row.updated_by = (
            done.value,
            row.version + 1,
            now,
            None,
        )
        await record_change(
            session, actor_id=None, area="channels", action="reseal secrets", target=SECRETS_KEY,
            new={"resealed": done.resealed, "unreadable": done.unreadable}, at=now,
        )  # fmt: skip
    return done
