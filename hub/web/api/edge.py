"""The typed API edge: ``endpoint`` turns a handler that takes request models and returns a
response model into an aiohttp route, and keeps what the OpenAPI document says about it
(openapi.py generates the document from the route table). Per request: authenticate (a bearer
token is checked before the body is read), parse path, query and body into their models, call the
handler, serialize its answer (parsing.py turns a refused field into the one error shape)."""

from __future__ import annotations

import re
import typing
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel

from hub.assembly import Hub
from hub.core.authz import Principal
from hub.core.errors import forbidden
from hub.web.api.parsing import Where, parse, read
from hub.web.auth import authenticate
from hub.web.keys import hub_of

Auth = Literal["agent", "channel", "public"]
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
            await hub.presence.touch(caller.agent_id)  # the agent's requests keep them online
        arguments: dict[str, BaseModel] = {}
        for where, model in self.inputs.items():
            raw = await read(request, where, model)
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
        placeholders = set(re.findall(r"{(\w+)}", path))
        named = set(inputs["path"].model_fields) if "path" in inputs else set()
        if placeholders != named:
            raise TypeError(f"{method} {path}: path parameters {sorted(named)} in the model")
        return Endpoint(method, path, handler, doc, inputs, answer)

    return wrap


def add_endpoints(router: web.UrlDispatcher, endpoints: typing.Iterable[Endpoint]) -> None:
    for one in endpoints:
        router.add_route(one.method, one.path, one.serve)
