"""One typed settings object, loaded from a TOML file plus ``RELAYDESK_*`` environment variables.

Environment variables override the file: ``RELAYDESK_DATABASE_URL`` sets ``database.url``;
any other ``RELAYDESK_A__B`` sets ``a.b`` (double underscore separates levels).
Everything is validated at start; a wrong or missing value raises ``ConfigError`` naming the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from channels.config import ChannelConfig
from channels.registry import UnknownChannelKind, validate_channel_config
from hub.config.admin import AdminSettings
from hub.config.bot_gateway import BotGatewaySettings
from hub.config.campaigns import CampaignSettings
from hub.config.crm import CrmSettings
from hub.config.integrations import WebhookSettings
from hub.config.live import LiveSettings
from hub.config.operations import OperationsSettings
from hub.config.outgoing import OutgoingSettings
from hub.config.reports import ReportSettings
from hub.config.routing import (
    AssignmentSettings,
    BotSettings,
    CalendarSettings,
    FollowupSettings,
    JobSettings,
    RuleExtensions,
    SlaPolicy,
)
from hub.config.secret_keys import PreviousKeys
from hub.config.security import SecuritySettings
from hub.config.sla_tiers import tier_problems

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_CONFIG = Path("config/relaydesk.toml")
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and the problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Model):
    url: str = "sqlite+aiosqlite:///data/relaydesk.db"
    auto_migrate: bool = True
    echo: bool = False
    # full: a commit (and so a provider's 2xx) is on disk before it returns; normal may lose
    # the last commits on power loss (not on a process crash).
    sqlite_synchronous: Literal["full", "normal"] = "full"
    # PostgreSQL: where each process opens its LISTEN connection for cross-process wake-ups,
    # when ``url`` goes through a pooler in transaction mode (which cannot LISTEN); empty: url.
    listen_url: str = ""

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("listen_url")
    @classmethod
    def _postgresql(cls, value: str) -> str:
        if value and not value.startswith("postgresql+asyncpg://"):
            raise ValueError("must start with postgresql+asyncpg:// (or be left empty)")
        return value


class WebSettings(_Model):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    # The address in links the hub sends (surveys, unsubscribe); unset: http://host:port.
    public_url: str = ""
    max_body_bytes: int = Field(256 * 1024, ge=1024)
    form_rate_per_minute: int = Field(10, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _public_url(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("public_url"):
            url = local_url(str(data.get("host") or "127.0.0.1"), data.get("port", 8080))
            data = {**data, "public_url": url}
        return data


def local_url(host: str, port: object) -> str:
    """The URL of a server bound on host:port, as this machine reaches it."""
    host = "127.0.0.1" if host in ("0.0.0.0", "::", "*", "") else host  # noqa: S104
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


class CaptureSettings(_Model):
    """Local SMTP server that keeps outgoing mail, for demos and development."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(2525, ge=0, le=65535)
    keep: int = Field(500, ge=1)


class OutboxSettings(_Model):
    # 20 attempts doubling from 2 s, capped at an hour: retries span a relay outage of about
    # 5-9 hours (jittered) before the message is marked failed for the agent to see.
    max_attempts: int = Field(20, ge=1)
    base_delay_seconds: float = Field(2.0, gt=0)
    max_delay_seconds: float = Field(3600.0, gt=0)
    poll_seconds: float = Field(1.0, gt=0)
    batch_size: int = Field(20, ge=1)
    concurrency: int = Field(8, ge=1)
    # Renewed while a mail is being sent; after a crash its mails are free again within this.
    lease_seconds: float = Field(30.0, gt=0)
    # A sent message's queue row is deleted this long after it went out (the message keeps its
    # delivery state; failed ones stay for an agent to retry).
    keep_sent_days: int = Field(30, ge=1, le=3650)


class IngestSettings(_Model):
    batch_size: int = Field(64, ge=1, le=1000)
    fuzzy_threshold: float = Field(88.0, ge=0, le=100)


class ChatFileSettings(_Model):
    """Fetching the files customers send through Telegram and Slack (hub/chat_files.py)."""

    poll_seconds: float = Field(2.0, gt=0)
    retry_seconds: float = Field(30.0, gt=0)  # doubled after each failed attempt
    max_attempts: int = Field(6, ge=1)
    timeout_seconds: float = Field(60.0, gt=0)


_SIZE_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2, "gb": 1024**3}


class AttachmentSettings(_Model):
    """Files agents attach to replies and notes; ``max_bytes`` takes a number or "10 MB"."""

    max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=1024**3)
    max_files: int = Field(10, ge=1, le=50)
    # Uploads not attached to a reply or note within this time are deleted.
    keep_unattached_hours: int = Field(24, ge=1)

    @field_validator("max_bytes", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        match = re.fullmatch(r"(\d{1,12}(?:\.\d{1,6})?)\s*([a-z]*)", value.strip().lower())
        factor = _SIZE_UNITS.get(match.group(2) or "b") if match else None
        if match is None or factor is None:
            raise ValueError('must be a number of bytes or a size like "10 MB"')
        return int(float(match.group(1)) * factor)


class SlaTarget(_Model):
    first_response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)


def _default_sla() -> dict[Priority, SlaTarget]:
    return {
        "low": SlaTarget(first_response_minutes=1440, resolution_minutes=10080),
        "normal": SlaTarget(first_response_minutes=480, resolution_minutes=4320),
        "high": SlaTarget(first_response_minutes=60, resolution_minutes=1440),
        "urgent": SlaTarget(first_response_minutes=15, resolution_minutes=240),
    }


class RoutingRule(RuleExtensions):
    name: str
    channels: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    team: str | None = None
    priority: Priority | None = None


class RoutingSettings(_Model):
    default_team: str = "support"
    default_priority: Priority = "normal"
    rules: tuple[RoutingRule, ...] = ()
    intent_threshold: float = Field(85.0, ge=0, le=100)
    calendar: str | None = None
    assignment: AssignmentSettings = AssignmentSettings()


class Settings(_Model):
    secret_key: str = Field(min_length=16)
    previous_secret_keys: PreviousKeys = ()  # older secret_keys, newest first (rotation)
    instance_name: str = "Relaydesk"
    mail_domain: str = "relaydesk.local"
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    capture: CaptureSettings = CaptureSettings()
    outbox: OutboxSettings = OutboxSettings()
    ingest: IngestSettings = IngestSettings()
    attachments: AttachmentSettings = AttachmentSettings()
    chat_files: ChatFileSettings = ChatFileSettings()
    sla: dict[Priority, SlaTarget] = Field(default_factory=_default_sla)
    routing: RoutingSettings = RoutingSettings()
    calendars: dict[str, CalendarSettings] = Field(default_factory=dict)
    sla_policies: tuple[SlaPolicy, ...] = ()
    followups: FollowupSettings = FollowupSettings()
    bots: BotSettings = BotSettings()
    bot_gateway: BotGatewaySettings = BotGatewaySettings()
    webhooks: WebhookSettings = WebhookSettings()
    outgoing: OutgoingSettings = OutgoingSettings()
    jobs: JobSettings = JobSettings()
    campaigns: CampaignSettings = CampaignSettings()
    crm: CrmSettings = CrmSettings()
    live: LiveSettings = LiveSettings()
    operations: OperationsSettings = OperationsSettings()
    channels: dict[str, ChannelConfig] = Field(default_factory=dict)
    reports: ReportSettings = ReportSettings()
    admin: AdminSettings = AdminSettings()
    security: SecuritySettings = SecuritySettings()
    templates_dir: Path = PROJECT_ROOT / "templates"

    def channel(self, name: str) -> ChannelConfig | None:
        return self.channels.get(name)


def _set_path(target: dict[str, Any], path: list[str], value: str) -> None:
    node = target
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"config error: {'.'.join(path)}: cannot override a non-table value")
    node[path[-1]] = value


def _env_overrides(data: dict[str, Any], environ: Mapping[str, str]) -> dict[str, str]:
    """Apply ``RELAYDESK_*`` variables; returns dotted key -> the variable that set it."""
    sources: dict[str, str] = {}
    for key, value in environ.items():
        if not key.startswith("RELAYDESK_") or key in {"RELAYDESK_CONFIG"}:
            continue
        if key.startswith("RELAYDESK_TEST_"):
            continue
        name = key.removeprefix("RELAYDESK_").lower()
        path = ["database", "url"] if name == "database_url" else name.split("__")
        _set_path(data, path, value)
        sources[".".join(path)] = key
    return sources


def _join(where: list[str], message: str) -> str:
    """``dotted.key: problem``; a message that starts with "key: " names a key under ``where``."""
    key, sep, rest = message.partition(": ")
    if sep and key.isidentifier():
        where, message = [*where, key], rest
    return f"{'.'.join(where) or '(top level)'}: {message}"


def _format(error: ValidationError, prefix: str = "") -> str:
    first = error.errors()[0]
    where = [prefix] if prefix else []
    where += [str(part) for part in first["loc"]]
    message = str(first["msg"]).removeprefix("Value error, ")
    return _join(where, message) if not first["loc"] else f"{'.'.join(where)}: {message}"


def _origin(problem: str, sources: Mapping[str, str], config_path: Path) -> str:
    """Where the offending value came from: an environment variable or the file."""
    where = problem.partition(": ")[0]
    for dotted, variable in sources.items():
        if where == dotted or where.startswith(dotted + "."):
            return f"set by {variable}"
    return str(config_path)


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read the config file, apply environment and explicit overrides, and validate."""
    env = os.environ if environ is None else environ
    config_path = path or Path(env.get("RELAYDESK_CONFIG", str(DEFAULT_CONFIG)))
    try:
        data: dict[str, Any] = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config error: file not found: {config_path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config error: {config_path}: not valid TOML: {exc}") from None
    sources = _env_overrides(data, env)
    for dotted, value in (overrides or {}).items():
        _set_path(data, dotted.split("."), value)
        sources[dotted] = "the command line"
    data["channels"] = _channels(data.get("channels", {}), config_path, sources)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        problem = _format(exc)
        raise ConfigError(
            f"config error: {problem} ({_origin(problem, sources, config_path)})"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"config error: {exc} ({config_path})") from None
    _check_references(settings)
    return settings


def _channels(raw: Any, config_path: Path, sources: Mapping[str, str]) -> dict[str, ChannelConfig]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"config error: channels: must be a table ({config_path})")
    result: dict[str, ChannelConfig] = {}
    for name, table in raw.items():
        try:
            result[str(name)] = validate_channel_config(str(name), table)
        except ValidationError as exc:
            problem = _format(exc, f"channels.{name}")
        except UnknownChannelKind as exc:
            problem = _join(["channels", str(name)], str(exc))
        else:
            continue
        origin = _origin(problem, sources, config_path)
        raise ConfigError(f"config error: {problem} ({origin})")
    return result


def _check_references(settings: Settings) -> None:
    for name, channel in settings.channels.items():
        for key, target in (("reply_via", channel.reply_via), ("ack_via", channel.ack_via)):
            if target and target not in settings.channels:
                raise ConfigError(
                    f"config error: channels.{name}.{key}: no channel named {target!r}"
                )
        fallback = getattr(channel, "email_fallback_channel", None)
        if fallback and getattr(settings.channels.get(fallback), "kind", None) != "email":
            raise ConfigError(
                f"config error: channels.{name}.email_fallback_channel: "
                f"no email channel named {fallback!r}"
            )
    for index, rule in enumerate(settings.routing.rules):
        unknown = [c for c in rule.channels if c not in settings.channels]
        if unknown:
            raise ConfigError(
                f"config error: routing.rules.{index}.channels: unknown channel {unknown[0]!r}"
            )
    for problem in _routing_problems(settings):
        raise ConfigError(f"config error: {problem}")


def _routing_problems(settings: Settings) -> list[str]:
    """Problems with names the routing sections use (each a ``key: problem`` text)."""
    problems: list[str] = []
    calendars = settings.calendars
    bots = {"faq", *settings.bots.connectors}
    for index, policy in enumerate(settings.sla_policies):
        if policy.calendar and policy.calendar not in calendars:
            problems.append(f"sla_policies.{index}.calendar: no calendar named {policy.calendar!r}")
    problems += tier_problems(settings.sla_policies, settings.sla, settings.crm.tiers, PRIORITIES)
    for key, name in (
        ("routing.calendar", settings.routing.calendar),
        ("followups.calendar", settings.followups.calendar),
        ("reports.calendar", settings.reports.calendar),
    ):
        if name and name not in calendars:
            problems.append(f"{key}: no calendar named {name!r}")
    for index, rule in enumerate(settings.routing.rules):
        if rule.bot and rule.bot not in bots:
            problems.append(f"routing.rules.{index}.bot: no bot named {rule.bot!r}")
    for name, connector in settings.bots.connectors.items():
        unknown = [c for c in connector.channels if c not in settings.channels]
        if unknown:
            problems.append(f"bots.connectors.{name}.channels: unknown channel {unknown[0]!r}")
    return problems
