"""The bot form of the admin console, read from a post: the same shapes and checks as the bot
API (``NewBot``/``BotChange`` and ``registry.problems``), each problem named by its field."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from hub.bots import registry
from hub.config.settings import Settings
from hub.platform.targets import Targets
from hub.web.api.models.bots import BotChange, NewBot
from hub.web.requests import whole_number

NUMBERS = ("timeout_ms", "max_errors", "max_turns_without_progress")
FLAGS = ("enabled", "handback_on_resolve")


@dataclass(frozen=True, slots=True)
class Read:
    fields: dict[str, Any]  # what to save (valid only when ``errors`` is empty)
    shown: dict[str, Any]  # what the form shows again
    errors: dict[str, str]


def _lines(raw: str) -> list[str]:
    return [part.strip() for part in raw.split("\n") if part.strip()]


def _problem(error: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in error.errors():
        field = str(item["loc"][0]) if item["loc"] else ""
        found.setdefault(field, str(item["msg"]))
    return found


def read(posted: dict[str, str], settings: Settings, kind: str | None) -> Read:
    """``kind``: the bot's kind when editing (None: a new bot, whose name and kind are read)."""
    errors: dict[str, str] = {}
    fields: dict[str, Any] = {
        "url": posted.get("url", "").strip() or None,
        "channels": _lines(posted.get("channels", "")),
        "teams": _lines(posted.get("teams", "")),
        "hours": posted.get("hours", "").strip() or "always",
    }
    for key in FLAGS:
        fields[key] = posted.get(key) == "on"
    for key in NUMBERS:
        raw = posted.get(key, "").strip()
        number = whole_number(raw)
        if number is None:
            errors[key] = "a whole number"
        else:
            fields[key] = number
    if kind is None:
        fields["name"] = posted.get("name", "").strip()[:200]
        fields["kind"] = posted.get("kind", "").strip()[:20]
    shown = {**fields, **{k: posted.get(k, "") for k in NUMBERS if k in errors}}
    model: type[BaseModel] = NewBot if kind is None else BotChange
    try:
        checked = model.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        errors = {**_problem(exc), **errors}
    else:
        if not errors:
            fields = checked.model_dump(exclude_none=True)
            fields.setdefault("url", None)
    if not errors:
        errors = registry.problems(
            kind or fields["kind"], fields, settings.channels, settings.calendars
        )
    return Read(fields, shown, errors)


async def refuse_target(read: Read, settings: Settings) -> Read:
    """The form with its URL refused when it points at a non-public address (a name is
    resolved: hub/platform/targets.py); unchanged when it has other problems already."""
    url = read.fields.get("url")
    if read.errors or not isinstance(url, str):
        return read
    problem = await Targets.of(settings.outgoing).refusal(url.strip())
    if problem is None:
        return read
    return Read(read.fields, read.shown, {"url": problem})


def blank() -> dict[str, Any]:
    """A new bot's form, as first shown."""
    return {
        "name": "", "kind": "webhook", "url": "", "channels": [], "teams": [], "hours": "always",
        "enabled": True, "handback_on_resolve": False, "timeout_ms": 5000, "max_errors": 3,
        "max_turns_without_progress": 0,
    }  # fmt: skip
