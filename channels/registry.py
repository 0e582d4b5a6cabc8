"""The explicit list of channel kinds the hub knows: config model and adapter factory per kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from channels.api.adapter import ApiChannel, ApiChannelConfig
from channels.base import Channel
from channels.config import ChannelConfig
from channels.email.adapter import EmailChannel, EmailChannelConfig
from channels.memory.adapter import MemoryChannel, MemoryChannelConfig
from channels.slack.adapter import SlackChannel
from channels.slack.config import SlackChannelConfig
from channels.telegram.adapter import TelegramChannel
from channels.telegram.config import TelegramChannelConfig
from channels.web.form import FormChannel, FormChannelConfig
from channels.web.widget import WidgetChannel, WidgetChannelConfig


@dataclass(frozen=True, slots=True)
class ChannelKindSpec:
    config: type[ChannelConfig]
    factory: Callable[[str, Any], Channel]


CHANNEL_KINDS: Mapping[str, ChannelKindSpec] = {
    "api": ChannelKindSpec(ApiChannelConfig, ApiChannel),
    "email": ChannelKindSpec(EmailChannelConfig, EmailChannel),
    "form": ChannelKindSpec(FormChannelConfig, FormChannel),
    "memory": ChannelKindSpec(MemoryChannelConfig, MemoryChannel),
    "slack": ChannelKindSpec(SlackChannelConfig, SlackChannel),
    "telegram": ChannelKindSpec(TelegramChannelConfig, TelegramChannel),
    "widget": ChannelKindSpec(WidgetChannelConfig, WidgetChannel),
}


class UnknownChannelKind(ValueError):
    pass


def validate_channel_config(name: str, raw: Any) -> ChannelConfig:
    """Validate one ``[channels.NAME]`` table; raises ``ValueError``/pydantic errors."""
    if not isinstance(raw, Mapping):
        raise UnknownChannelKind("must be a table")
    kind = raw.get("kind")
    spec = CHANNEL_KINDS.get(str(kind))
    if spec is None:
        known = ", ".join(sorted(CHANNEL_KINDS))
        raise UnknownChannelKind(f"kind: unknown channel kind {kind!r} (known: {known})")
    return spec.config.model_validate(dict(raw))


def build_channel(name: str, config: ChannelConfig) -> Channel:
    return CHANNEL_KINDS[config.kind].factory(name, config)
