"""Settings stored in the database: an overlay on the config file. An admin changes a value in
the console; the row (JSON value, a version that only grows, who and when) replaces the file's
value in every hub process, each of which notices the version move (``sync``: at start, after
its own saves, and from a worker every ``admin.poll_seconds``). A null value hands the key back
to the file, so a fresh database runs on the file and people who keep configuration in files
keep doing so for everything nobody changed in the console.

The process's one ``Settings`` object is updated in place, section by section (each section is
itself an immutable value swapped whole), so every service that holds it sees the change."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from channels.config import ChannelConfig
from hub.admin import texts
from hub.admin.sealed_secrets import open_secrets, seal_secrets
from hub.config.admin import environment_variable
from hub.config.settings import Settings, _routing_problems
from hub.core.audit import record_change
from hub.db.models import Team
from hub.db.settings_models import SettingOverride
from hub.platform.database import Database
from hub.platform.supervisor import Worker

log = logging.getLogger(__name__)
SECRETS_KEY = "channel_secrets"  # {channel: {field: value}}; never listed or echoed
SECRET_SUFFIXES = ("token", "secret", "password")
Source = Literal["default", "file", "environment", "database"]


class SettingInvalid(ValueError):
    """``field``: the dotted key (and path inside the value) at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Editable:
    key: str
    label: str
    area: str  # the audit area
    help: str
    form: Literal["text", "url", "choice", "structured"] = "text"


EDITABLE: Mapping[str, Editable] = {
    e.key: e
    for e in (
        Editable("instance_name", "Instance name", "settings", "Shown in pages and mails."),
        Editable(
            "web.public_url",
            "Public URL",
            "settings",
            "Where customers and providers reach this hub (links in mails, webhook URLs).",
            "url",
        ),
        Editable(
            "routing.default_team",
            "Default team",
            "routing",
            "Where messages no rule takes go.",
            "choice",
        ),
        Editable(
            "routing.default_priority",
            "Default priority",
            "routing",
            "Priority of messages no rule sets one for.",
            "choice",
        ),
        Editable(
            "routing.calendar",
            "Routing calendar",
            "hours",
            "Business hours that routing rules' inside/outside hours conditions use.",
            "choice",
        ),
        Editable("sla", "SLA targets per priority", "sla", "Edit on the SLA page.", "structured"),
        Editable("sla_policies", "SLA policies", "sla", "Edit on the SLA page.", "structured"),
        Editable(
            "calendars", "Business-hours calendars", "hours", "Edit on the SLA page.", "structured"
        ),
        Editable("admin.teams", "Team defaults", "sla", "Edit on the SLA page.", "structured"),
        Editable(
            "followups",
            "Follow-ups",
            "settings",
            "Follow-up rules (JSON, as [followups] in the file).",
            "structured",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class Stored:
    key: str
    value: Any
    version: int
    updated_by: int | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Entry:
    """One editable value as the settings page shows it."""

    key: str
    label: str
    help: str
    form: str
    value: Any  # JSON-able
    source: Source
    variable: str  # the environment variable that would override it
    version: int
    updated_by: int | None
    updated_at: datetime | None


def _json(value: Any) -> Any:
    return to_jsonable_python(value)


def _get(settings: Settings, key: str) -> Any:
    top, _, sub = key.partition(".")
    section = getattr(settings, top)
    return getattr(section, sub) if sub else section


def _default(key: str) -> Any:
    top, _, sub = key.partition(".")
    field = Settings.model_fields[top]
    section = field.get_default(call_default_factory=True)
    return getattr(section, sub) if sub else section


def _problem(error: ValidationError, key: str) -> SettingInvalid:
    first = error.errors()[0]
    where = ".".join([key, *(str(part) for part in first["loc"])])
    return SettingInvalid(where, str(first["msg"]).removeprefix("Value error, "))


def _section_with(section: BaseModel, sub: str, raw: Any, key: str) -> BaseModel:
    try:
        return type(section).model_validate({**section.model_dump(), sub: raw})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(part) for part in first["loc"]][1:]
        where = ".".join([key, *loc])
        raise SettingInvalid(where, str(first["msg"]).removeprefix("Value error, ")) from None


def compose(base: Settings, overlay: Mapping[str, Any]) -> Settings:
    """``base`` with the overlay's values; raises ``SettingInvalid`` naming the key at fault."""
    updates: dict[str, Any] = {}
    for key in EDITABLE:
        raw = overlay.get(key)
        if raw is None:
            continue
        top, _, sub = key.partition(".")
        if sub:
            updates[top] = _section_with(updates.get(top, getattr(base, top)), sub, raw, key)
            continue
        annotation = Settings.model_fields[top].annotation
        assert annotation is not None
        try:
            updates[top] = TypeAdapter(annotation).validate_python(raw)
        except ValidationError as exc:
            raise _problem(exc, key) from None
    secrets = overlay.get(SECRETS_KEY)
    if isinstance(secrets, Mapping):
        updates["channels"] = with_secrets(base.channels, secrets)
    candidate = base.model_copy(update=updates)
    _check(candidate)
    return candidate


def secret_fields(config: BaseModel, prefix: str = "") -> tuple[str, ...]:
    """The channel's settings that are secrets (dotted inside a table that is set, such as
    ``imap.password``): shown masked, replaced, never echoed."""
    found: list[str] = []
    for name, field in type(config).model_fields.items():
        value = getattr(config, name)
        if isinstance(value, BaseModel):
            found.extend(secret_fields(value, f"{prefix}{name}."))
        elif name.endswith(SECRET_SUFFIXES) and field.annotation is str:
            found.append(prefix + name)
    return tuple(found)


def secret_value(config: BaseModel, field: str) -> str:
    value: Any = config
    for part in field.split("."):
        value = getattr(value, part, "")
    return value if isinstance(value, str) else ""


def _put(data: dict[str, Any], dotted: str, value: str) -> None:
    head, _, rest = dotted.partition(".")
    if rest:
        data[head] = dict(data.get(head) or {})
        _put(data[head], rest, value)
    else:
        data[head] = value


def with_secrets(
    channels: Mapping[str, ChannelConfig], secrets: Mapping[str, Any]
) -> dict[str, ChannelConfig]:
    """The channel configs with the stored secrets in place (each config validated again)."""
    result = dict(channels)
    for name, fields in secrets.items():
        config = result.get(name)
        if config is None or not isinstance(fields, Mapping):
            continue
        allowed = secret_fields(config)
        data = config.model_dump()
        for field, value in fields.items():
            if field in allowed and isinstance(value, str):
                _put(data, field, value)
        try:
            result[name] = type(config).model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(["channels", name, *(str(p) for p in first["loc"])])
            raise SettingInvalid(where, str(first["msg"]).removeprefix("Value error, ")) from None
    return result


def _check(settings: Settings) -> None:
    if not settings.instance_name.strip():
        raise SettingInvalid("instance_name", texts.NOT_EMPTY)
    if not settings.web.public_url.startswith(("http://", "https://")):
        raise SettingInvalid("web.public_url", texts.NOT_A_URL)
    for problem in _routing_problems(settings):
        where, _, text = problem.partition(": ")
        raise SettingInvalid(where, text)
    for index, rule in enumerate(settings.followups.rules):
        unknown = [c for c in rule.channels if c not in settings.channels]
        if unknown:
            raise SettingInvalid(
                f"followups.rules.{index}.channels", f"unknown channel {unknown[0]!r}"
            )
    policies = {p.name for p in settings.sla_policies}
    for slug, team in settings.admin.teams.items():
        if team.calendar and team.calendar not in settings.calendars:
            raise SettingInvalid(
                f"admin.teams.{slug}.calendar", f"no calendar named {team.calendar!r}"
            )
        if team.sla_policy and team.sla_policy not in policies:
            raise SettingInvalid(
                f"admin.teams.{slug}.sla_policy", f"no SLA policy named {team.sla_policy!r}"
            )


class SettingsStore:
    """The overlay for one process: ``live`` is the process's settings object."""

    def __init__(self, live: Settings, environ: Mapping[str, str] | None = None) -> None:
        self.live = live
        self.base = live.model_copy()  # the file and environment, before any overlay
        self.environ = os.environ if environ is None else environ
        self.rows: dict[str, Stored] = {}
        self.listeners: list[Callable[[Settings], None]] = []  # told after every change
        self._versions: dict[str, int] = {}

    async def sync(self, session: AsyncSession) -> bool:
        """Apply what changed in the database since the last look; True if anything did."""
        versions = {
            key: int(version)
            for key, version in await session.execute(
                select(SettingOverride.key, SettingOverride.version)
            )
        }
        if versions == self._versions:
            return False
        rows = [
            Stored(
                row.key,
                self._opened(row.key, row.value),
                row.version,
                row.updated_by,
                row.updated_at,
            )
            for row in (await session.scalars(select(SettingOverride))).all()
        ]
        candidate = self._usable({row.key: row.value for row in rows})
        for top in {key.partition(".")[0] for key in EDITABLE} | {"channels"}:
            object.__setattr__(self.live, top, getattr(candidate, top))
        for listener in self.listeners:
            listener(self.live)
        self.rows = {row.key: row for row in rows}
        self._versions = {row.key: row.version for row in rows}
        return True

    def _opened(self, key: str, value: Any) -> Any:
        """A row's value in the clear (channel secrets are stored sealed)."""
        if key != SECRETS_KEY:
            return value
        return open_secrets(self.base.secret_key, value, self.base.previous_secret_keys)

    def _usable(self, overlay: Mapping[str, Any]) -> Settings:
        """The overlay applied, leaving out a value a later file change made wrong (logged)."""
        kept: dict[str, Any] = {}
        for key, value in overlay.items():
            try:
                compose(self.base, {**kept, key: value})
            except SettingInvalid as exc:
                log.warning("setting %s from the database left out: %s", key, exc)
                continue
            kept[key] = value
        return compose(self.base, kept)

    async def refresh(self, db: Database) -> bool:
        async with db.reader() as session:
            return await self.sync(session)

    def overlay(self) -> dict[str, Any]:
        return {key: row.value for key, row in self.rows.items() if row.value is not None}

    def check(self, key: str, raw: Any) -> Settings:
        """The settings as they would be with ``key`` set to ``raw`` (nothing is stored)."""
        if key not in EDITABLE:
            raise SettingInvalid("key", texts.UNKNOWN_SETTING)
        if raw is None:
            return compose(self.base, {k: v for k, v in self.overlay().items() if k != key})
        return compose(self.base, {**self.overlay(), key: raw})

    async def save(
        self, session: AsyncSession, key: str, raw: Any, actor_id: int | None, now: datetime
    ) -> int:
        """Store ``raw`` for ``key`` (None: back to the file) after checking it; audited in the
        caller's transaction. Returns the new version; ``sync`` applies it after the commit."""
        candidate = self.check(key, raw)
        team = candidate.routing.default_team
        if key == "routing.default_team" and not await session.scalar(
            select(Team.id).where(Team.slug == team)
        ):
            raise SettingInvalid(key, texts.UNKNOWN_TEAM.format(team=team))
        old, new = _json(_get(self.live, key)), _json(_get(candidate, key))
        version = await _upsert(session, key, None if raw is None else new, actor_id, now)
        await record_change(
            session,
            actor_id=actor_id,
            area=EDITABLE[key].area,
            action="reset" if raw is None else "change",
            target=key,
            old=old,
            new=new,
            at=now,
        )
        return version

    async def save_secret(
        self,
        session: AsyncSession,
        channel: str,
        field: str,
        value: str,
        actor_id: int | None,
        now: datetime,
    ) -> int:
        """Replace one channel secret (audited without the value); raises SettingInvalid."""
        config = self.live.channels.get(channel)
        if config is None:
            raise SettingInvalid("channel", texts.UNKNOWN_CHANNEL.format(name=channel))
        if field not in secret_fields(config):
            raise SettingInvalid("field", texts.NOT_A_SECRET.format(channel=channel))
        stored = await session.get(SettingOverride, SECRETS_KEY)
        secrets = self._opened(SECRETS_KEY, stored.value if stored is not None else None)
        secrets[channel] = {**secrets.get(channel, {}), field: value}
        compose(self.base, {**self.overlay(), SECRETS_KEY: secrets})
        sealed = seal_secrets(self.base.secret_key, secrets)  # plain rows of old are sealed too
        version = await _upsert(session, SECRETS_KEY, sealed, actor_id, now)
        await record_change(
            session,
            actor_id=actor_id,
            area="channels",
            action="replace secret",
            target=f"{channel}.{field}",
            old=texts.SECRET_MASK,
            new=texts.SECRET_REPLACED,
            at=now,
        )
        return version

    def source(self, key: str) -> Source:
        row = self.rows.get(key)
        if row is not None and row.value is not None:
            return "database"
        if environment_variable(key) in self.environ:
            return "environment"
        if _json(_get(self.base, key)) == _json(_default(key)):
            return "default"
        return "file"

    def entries(self) -> list[Entry]:
        found: list[Entry] = []
        for key, item in EDITABLE.items():
            row = self.rows.get(key)
            found.append(
                Entry(
                    key=key,
                    label=item.label,
                    help=item.help,
                    form=item.form,
                    value=_json(_get(self.live, key)),
                    source=self.source(key),
                    variable=environment_variable(key),
                    version=row.version if row else 0,
                    updated_by=row.updated_by if row else None,
                    updated_at=row.updated_at if row else None,
                )
            )
        return found


async def _upsert(
    session: AsyncSession, key: str, value: Any, actor_id: int | None, now: datetime
) -> int:
    """Write one overlay row, its version one higher (1 for a new row); the new version."""
    version = await session.scalar(
        update(SettingOverride)
        .where(SettingOverride.key == key)
        .values(
            version=SettingOverride.version + 1, value=value, updated_by=actor_id, updated_at=now
        )
        .returning(SettingOverride.version)
    )
    if version is None:
        session.add(
            SettingOverride(key=key, value=value, version=1, updated_by=actor_id, updated_at=now)
        )
        await session.flush()
        version = 1
    return int(version)


def settings_worker(store: SettingsStore, db: Database) -> Worker:
    """Looks every ``admin.poll_seconds`` for settings another process stored."""

    async def step() -> float | None:
        await store.refresh(db)
        return None

    return Worker("settings-overlay", step, idle_seconds=store.live.admin.poll_seconds)
