"""SQL over JSON list columns that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Boolean, ColumnElement, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement as _Element


class JsonHas(_Element[bool]):
    """``column`` (a JSON list) contains ``value``: ``json_each`` on SQLite, ``@>`` on
    PostgreSQL (which a GIN index on the column can serve)."""

    inherit_cache = False
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], value: str) -> None:
        self.column = column
        self.value = value


@compiles(JsonHas)
def _sqlite(element: JsonHas, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(literal(element.value), **kw)
    # both parts are compiled SQL: the column and a bound parameter
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"  # noqa: S608


@compiles(JsonHas, "postgresql")
def _postgresql(element: JsonHas, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    value = compiler.process(literal(json.dumps([element.value])), **kw)
    return f"({column} @> CAST({value} AS JSONB))"


def json_has(column: ColumnElement[Any], value: str) -> ColumnElement[bool]:
    return JsonHas(column, value)
