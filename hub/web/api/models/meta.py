"""Shapes of the service's own endpoints: the health check and the OpenAPI document."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import RootModel

from hub.web.api.models.common import Answer


class Health(Answer):
    status: Literal["ok"]


class Readiness(Answer):
    """Whether this process can serve: each check "ok", or what is wrong."""

    status: Literal["ok", "unavailable"]
    checks: dict[str, str]


class OpenApiDocument(RootModel[dict[str, Any]]):
    """OpenAPI 3.1 document"""
