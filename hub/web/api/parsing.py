"""Reading a request into its models: path, query and JSON body as pydantic validates them, and a
refusal in the one error shape of hub/core/errors.py. The first problem is answered, with the
text the field's ``Says`` gives (today's texts, which clients and tests rely on), as
``invalid_field`` (body, 422), ``invalid_query`` (query, 400) or ``not_found`` (path, 404); a
validator's own ``refused(ApiError)`` is answered as it is."""

from __future__ import annotations

import typing
from typing import Any, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from channels import strict_json
from channels.api.adapter import unstorable
from hub.config.settings import Settings
from hub.core.errors import ApiError, invalid_field, invalid_json, invalid_query, not_found
from hub.web.api.models.common import Names, Says

Where = Literal["path", "query", "body"]
M = TypeVar("M", bound=BaseModel)


async def read(request: web.Request, where: Where, model: type[BaseModel]) -> dict[str, Any]:
    if where == "path":
        return dict(request.match_info)
    if where == "query":
        return {name: request.query[name] for name in request.query}
    return await json_object(request, {f.alias or name for name, f in model.model_fields.items()})


async def json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    try:
        payload = strict_json.loads(await request.read())
    except strict_json.JsonRefused as exc:
        raise invalid_json(exc.problem) from None
    if not isinstance(payload, dict):
        raise invalid_json("expected a JSON object")
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise invalid_field(unknown[0], "is not a known field")
    bad_text = unstorable(payload)
    if bad_text is not None:
        raise invalid_field(bad_text, "must not contain NUL characters or unpaired surrogates")
    return payload


def parse(model: type[M], where: Where, raw: dict[str, Any], settings: Settings) -> M:
    """``raw`` as ``model``, or the first problem as the API answers it. Validators that need
    the settings find them with ``settings_in(info.context)``."""
    try:
        return model.model_validate(raw, context={"settings": settings})
    except ValidationError as exc:
        raise _refusal(model, where, raw, exc) from None


def _refusal(
    model: type[BaseModel], where: Where, raw: dict[str, Any], exc: ValidationError
) -> ApiError:
    error = exc.errors()[0]
    if error["type"] == "refused":
        refusal = error.get("ctx", {}).get("error")
        assert isinstance(refusal, ApiError)
        return refusal
    names, markers = _field_of(model, error["loc"])
    name = ".".join(names) or str(error["loc"][0] if error["loc"] else "body")
    says = next((m for m in markers if isinstance(m, Says)), None)
    problem = says.about(error["type"]) if says else error["msg"]
    if where == "path":
        named = next((m for m in markers if isinstance(m, Names)), None)
        return not_found(named.what if named else name, raw.get(name, ""))
    if where == "query" and not (says and says.as_field):
        return invalid_query(name, problem)
    return invalid_field(name, problem)


def _field_of(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[list[str], list[Any]]:
    """The field names along ``loc`` (through nested models) and the last field's markers."""
    names: list[str] = []
    markers: list[Any] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None or not isinstance(part, str):
            break
        info = next(
            (f for n, f in current.model_fields.items() if part in (n, f.alias)),
            None,
        )
        if info is None:
            break
        names.append(part)
        markers = list(info.metadata)
        current = _model_in(info.annotation)
    return names, markers


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for inner in typing.get_args(annotation):
        found = _model_in(inner)
        if found is not None:
            return found
    return None
