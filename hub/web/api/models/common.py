"""Building blocks every API model shares: the base classes for what the API reads and what it
answers, ids and timestamps as the wire shows them, and the one error shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from hub.config.settings import Settings
from hub.core.errors import ApiError
from hub.web.requests import MAX_ID
from hub.web.requests import whole_number as digits


class Reading(BaseModel):
    """A JSON body the API reads: closed (an unknown field is refused), types strict (``1`` is
    not ``true``, ``"5"`` is not ``5``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Params(BaseModel):
    """Path or query parameters: strings on the wire, other parameters are ignored."""

    model_config = ConfigDict(extra="ignore")


class Answer(BaseModel):
    """A JSON answer: closed and (fields without a default) always present, so a response
    that drifts from the document fails its validation. Built from rows (``from_attributes``)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


@dataclass(frozen=True, slots=True)
class Says:
    """What a caller is told when this field does not validate: ``problem``, or by pydantic
    error type ``on``. ``as_field``: a query parameter refused as a field (422), not as a query
    parameter (400)."""

    problem: str
    on: Mapping[str, str] = field(default_factory=dict)
    as_field: bool = False

    def about(self, error_type: str) -> str:
        return self.on.get(error_type, self.problem)


@dataclass(frozen=True, slots=True)
class Names:
    """A path parameter naming a ``what``: a value that cannot be one answers 404."""

    what: str


def refused(error: ApiError) -> PydanticCustomError:
    """A validator's refusal with its own API error (code, message, field): it takes its place
    among the model's other problems, and the first problem is the one answered."""
    return PydanticCustomError("refused", "refused", {"error": error})


def whole_number(raw: object) -> object:
    """A parameter's plain ASCII digits as an int; anything else is refused."""
    if isinstance(raw, str):
        number = digits(raw)
        if number is None:
            raise ValueError("not a whole number")
        return number
    return raw


def _iso(value: datetime) -> str:
    return value.isoformat()


T = TypeVar("T")
Lax = Annotated[T, Strict(False)]
"""An enum read from its JSON string inside a strict model."""
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A row id (in an answer, or a body naming a row: beyond the column's range it names none)."""
Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""An aware time, answered as ISO 8601 with its offset (``+00:00``)."""
WholeNumber = BeforeValidator(whole_number)
PathId = Annotated[int, Field(ge=1, le=MAX_ID), WholeNumber]
"""A row id in a path: anything else names no row (404)."""


def whole_range(low: int, high: int) -> Says:
    return Says(f"must be a whole number from {low} to {high}")


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"x-inline": True})

    code: str = Field(examples=["invalid_field", "not_found"])
    message: str
    fields: dict[str, str] = Field(
        default_factory=dict, description="field or parameter name -> what is wrong with it"
    )


class Error(BaseModel):
    """Every error answer: a code, a message and, for invalid input, the fields at fault."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


def settings_in(context: Any) -> Settings:
    """The hub's settings, which ``parse`` hands to validators as their context."""
    settings = context.get("settings") if isinstance(context, dict) else None
    assert isinstance(settings, Settings)
    return settings
