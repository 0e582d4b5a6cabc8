"""Shapes of the customer-merge API: which two records, which survives, and the merge row."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from hub.web.api.models.common import Answer, Id, Names, Params, PathId, Reading, Says, Timestamp
from hub.web.requests import MAX_ID


class MergeId(Params):
    id: Annotated[PathId, Names("merge"), Field(description="customer merge id")]


class MergeCustomers(Reading):
    other_id: Annotated[
        int,
        Says("is required: the id of the other record of this customer"),
        Field(ge=1, le=MAX_ID, description="the other record of the same customer"),
    ]
    survivor_id: Annotated[
        Annotated[int, Field(ge=1, le=MAX_ID)] | SkipJsonSchema[None],
        Says("must be the id of one of the two records"),
        Field(description="the record that stays (default: the one with more history)"),
    ] = None


class CustomerMergeAnswer(Answer):
    id: Id
    survivor_id: Id = Field(description="the record that stayed and holds everything")
    absorbed_id: Id = Field(description="the record merged into the survivor")
    identity_ids: list[int]
    conversation_ids: list[int]
    created_at: Timestamp
    undone_at: Timestamp | None
