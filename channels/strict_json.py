"""The one JSON reader for everything that arrives from outside: API bodies, webhooks, widget
frames, page links. It refuses, with a ``JsonRefused`` naming the problem, what ``json.loads``
would accept or crash on: numbers longer than ``MAX_NUMBER_CHARS`` (Python refuses ints of more
than 4,300 digits with a ValueError, and a long float may be Infinity), ``NaN``, ``Infinity`` and
``-Infinity`` (not JSON, and PostgreSQL cannot read them back from a json column), nesting deeper
than ``MAX_DEPTH``, and bytes that are not text. Callers turn the refusal into their own 4xx."""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100


class JsonRefused(ValueError):
    """The text is not JSON the hub reads; ``problem`` says why, for the caller's 4xx."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _long(text: str) -> JsonRefused:
    return JsonRefused(f"a number is longer than {MAX_NUMBER_CHARS} characters ({text[:12]}...)")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _long(text)
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _long(text)
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text} is too large to be a finite number")
    return value


def _constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number (NaN, Infinity and -Infinity are refused)")


_DECODER = json.JSONDecoder(parse_int=_int, parse_float=_float, parse_constant=_constant)


def loads(data: bytes | bytearray | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``data`` as JSON, or ``JsonRefused``. Bytes are decoded as ``json.loads`` decodes them
    (UTF-8, or UTF-16/32 recognised by their first bytes)."""
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode(json.detect_encoding(data))
        except (UnicodeDecodeError, LookupError):
            raise JsonRefused("the body is not UTF-8 text") from None
    else:
        text = data
    try:
        value = _DECODER.decode(text)
    except RecursionError:
        raise _too_deep(max_depth) from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(str(exc)) from None
    if depth_of(value) > max_depth:
        raise _too_deep(max_depth)
    return value


def _too_deep(max_depth: int) -> JsonRefused:
    return JsonRefused(f"arrays and objects are nested more than {max_depth} levels deep")


def depth_of(value: Any) -> int:
    """How many arrays and objects deep ``value`` goes (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest
