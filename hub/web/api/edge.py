"""The typed API edge: ``endpoint`` turns a handler that takes request models and returns a
response model into an aiohttp route, and keeps what the OpenAPI document says about it
(openapi.py generates the document from the route table). Per request: authenticate (a bearer
token is checked before the body is read), parse path, query and body into their models, call the
handler, serialize its answer. A field that does not validate is answered in the one error shape
of hub/core/errors.py, with the text its ``Says`` gives."""

from __future__ import annotations

import json
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from channels.api.adapter import unstorable
from hub.config.settings import Settings
from hub.core.authz import Principal
from hub.core.errors import (
    ApiError,
    forbidden,
    invalid_field,
    invalid_json,
    invalid_query,
    not_found,
)
from hub.web.api.models.common import Names, Says
from hub.web.auth import authenticate
from hub.web.keys import Hub, hub_of

Auth = Literal["agent", "channel", "public"]
Where = Literal["path", "query", "body"]
WHERE: tuple[Where, ...] = ("path", "query", "body")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Call:
    """One API call as its handler sees it."""

    request: web.Request
    hub: Hub
    caller: Principal | None

    @property
    def principal(self) -> Principal:
        if self.caller is None:
            raise RuntimeError("this endpoint does not authenticate its caller")
        return self.caller


@dataclass(frozen=True, slots=True)
class Reply(Generic[M]):
    """An answer whose status the handler chooses among the endpoint's documented ones."""

    model: M
    status: int


@dataclass(frozen=True, slots=True)
class Requires:
    """What the caller's role must allow, checked before the request is parsed."""

    allows: Callable[[Principal], bool]
    action: str  # "your role may not <action>"


@dataclass(frozen=True, slots=True)
class Doc:
    """What the OpenAPI document says about an operation beyond its models."""

    tag: str
    summary: str
    operation_id: str | None = None
    description: str | None = None
    auth: Auth = "agent"
    requires: Requires | None = None
    ok: Mapping[int, str] = field(default_factory=lambda: {200: "OK"})
    errors: tuple[int, ...] = ()
    notes: Mapping[int, str] = field(default_factory=dict)  # errors with their own description
    media: str | None = "application/json"  # of a success answer that is not a model
    reads: tuple[str, type[BaseModel]] | None = None  # a body read by the handler itself


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Callable[..., Awaitable[Any]]
    doc: Doc
    inputs: Mapping[Where, type[BaseModel]]
    answer: type[BaseModel] | None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        hub = hub_of(request)
        caller = None
        if self.doc.auth == "agent":
            async with hub.db.reader() as session:
                caller = await authenticate(request, session)
            if self.doc.requires and not self.doc.requires.allows(caller):
                raise forbidden(self.doc.requires.action)
        arguments: dict[str, BaseModel] = {}
        for where, model in self.inputs.items():
            raw = await _raw(request, where, model)
            arguments[where] = parse(model, where, raw, hub.settings)
        result = await self.handler(Call(request, hub, caller), **arguments)
        return self.respond(result)

    def respond(self, result: object) -> web.StreamResponse:
        if isinstance(result, web.StreamResponse):
            return result
        if result is None:
            return web.Response(status=next(iter(self.doc.ok)))
        status = next(iter(self.doc.ok))
        if isinstance(result, Reply):
            status = result.status
            result = result.model
        assert isinstance(result, BaseModel)
        body = result.model_dump(mode="json", by_alias=True, exclude_unset=True)
        return web.json_response(body, status=status)


Handler = Callable[..., Awaitable[Any]]


def endpoint(method: str, path: str, doc: Doc) -> Callable[[Handler], Endpoint]:
    """Route ``method path`` to the decorated handler. Its parameters after the ``Call`` are
    named ``path``, ``query`` and ``body`` and typed with their models; its return type is the
    answer's model (or ``Reply[Model]``, a web response, or None for an empty answer)."""

    def wrap(handler: Handler) -> Endpoint:
        hints = typing.get_type_hints(handler)
        inputs = {where: hints[where] for where in WHERE if where in hints}
        returned = hints.get("return")
        if typing.get_origin(returned) is Reply:
            returned = typing.get_args(returned)[0]
        answer = (
            returned if isinstance(returned, type) and issubclass(returned, BaseModel) else None
        )
        return Endpoint(method, path, handler, doc, inputs, answer)

    return wrap


async def _raw(request: web.Request, where: Where, model: type[BaseModel]) -> dict[str, Any]:
    if where == "path":
        return dict(request.match_info)
    if where == "query":
        return {name: request.query[name] for name in request.query}
    return await json_object(request, {f.alias or name for name, f in model.model_fields.items()})


async def json_object(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    try:
        payload = json.loads(await request.read())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise invalid_json(str(exc)) from None
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
    """``raw`` as ``model``, or the first problem as the API answers it. Validators may raise an
    ``ApiError`` themselves (it passes through pydantic) for checks that need the settings."""
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


def settings_in(context: Any) -> Settings:
    """The hub's settings, which ``parse`` hands to validators as their context."""
    settings = context.get("settings") if isinstance(context, dict) else None
    assert isinstance(settings, Settings)
    return settings


def add_endpoints(router: web.UrlDispatcher, endpoints: typing.Iterable[Endpoint]) -> None:
    for one in endpoints:
        router.add_route(one.method, one.path, one.serve)
