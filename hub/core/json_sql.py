"""SQL over JSON attribute columns that reads the same on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement as _Element


class JsonNumber(_Element[float]):
    """The number stored under ``key`` in a JSON object column, or NULL when the value there is
    missing or not a number (so ``"n/a"`` never reaches a cast: PostgreSQL would refuse it and
    SQLite would read it as 0)."""

    inherit_cache = False
    type = Float()

    def __init__(self, column: ColumnElement[Any], key: str) -> None:
        self.column = column
        self.key = key


@compiles(JsonNumber)
def _sqlite(element: JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    path = compiler.process(literal(f'$."{element.key}"'), **kw)
    return (
        f"(CASE WHEN json_type({column}, {path}) IN ('integer', 'real') "
        f"THEN json_extract({column}, {path}) END)"
    )


@compiles(JsonNumber, "postgresql")
def _postgresql(element: JsonNumber, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    key = compiler.process(literal(element.key), **kw)
    return (
        f"(CASE WHEN jsonb_typeof(({column})::jsonb -> {key}) = 'number' "
        f"THEN (({column})::jsonb ->> {key})::float END)"
    )


def json_number(column: ColumnElement[Any], key: str) -> ColumnElement[float]:
    return JsonNumber(column, key)
