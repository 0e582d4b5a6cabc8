"""What only the web side keeps, built with the app: the page templates (agent pages, public
forms, the chat page, captured mail) and the public forms' rate limiter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.config.settings import Settings
from hub.web.ratelimit import RateLimiter


@dataclass(frozen=True, slots=True)
class WebPages:
    pages: Environment
    form_limiter: RateLimiter

    @classmethod
    def of(cls, settings: Settings) -> WebPages:
        return cls(
            page_environment(settings), RateLimiter("form", settings.web.form_rate_per_minute)
        )


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    seconds = int((now - value).total_seconds())
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{seconds // size}{unit}"
            break
    else:
        text = "now" if seconds < 45 else "1m"
    if text == "now":
        return text
    return f"in {text}" if future else f"{text} ago"


def page_environment(settings: Settings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(settings.templates_dir / "web")),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["ago"] = _ago
    env.filters["stamp"] = lambda value: value.strftime("%Y-%m-%d %H:%M UTC") if value else ""
    return env
