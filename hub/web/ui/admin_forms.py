"""What the admin console's pages share: admins only, the posted form as plain strings, and a
change of a stored setting answered as a redirect or the page again with the field's error."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hub.admin import texts
from hub.core.errors import ApiError, forbidden
from hub.web.api.admin_settings import change_setting
from hub.web.keys import hub_of
from hub.web.ui.viewer import viewer_of


def admin_only(request: web.Request) -> None:
    if not viewer_of(request).is_admin:
        raise forbidden(texts.ADMINS_ONLY)


async def posted(request: web.Request) -> dict[str, str]:
    """Every field of the posted form as a string (repeated fields joined by newlines)."""
    form = await request.post()
    values: dict[str, str] = {}
    for key in set(form.keys()):
        values[key] = "\n".join(str(v) for v in form.getall(key) if isinstance(v, str))
    return values


def split(raw: str) -> list[str]:
    """A comma- or line-separated list as the forms take it."""
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


async def store(request: web.Request, key: str, value: Any) -> ApiError | None:
    """Store one setting as the signed-in admin; the error (naming the field) or None."""
    try:
        await change_setting(hub_of(request), key, value, viewer_of(request).agent_id)
    except ApiError as exc:
        return exc
    return None


def field_errors(error: ApiError | None) -> dict[str, str]:
    if error is None:
        return {}
    return dict(error.fields) or {"": error.message}


def message_for(key: str, errors: dict[str, str]) -> str:
    """The first error as shown beside the form of ``key`` (naming a field deeper inside)."""
    field, problem = next(iter(errors.items()))
    return problem if field in (key, "") else f"{field}: {problem}"
