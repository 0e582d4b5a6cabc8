"""Durations kept mergeable: DDSketch bins (the ``ddsketch`` package's logarithmic mapping,
1 % relative accuracy) stored sparsely in a rollup row as ``{"b": {key: count}, "z": zeros}``,
so days merge by adding counts; and a fixed histogram of the same durations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ddsketch import LogarithmicMapping

RELATIVE_ACCURACY = 0.01
_MAPPING = LogarithmicMapping(RELATIVE_ACCURACY)
# Histogram bucket upper bounds in seconds; the last bucket is open.
BOUNDS: tuple[float, ...] = (60, 300, 900, 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400)
LABELS: tuple[str, ...] = ("<1m", "1-5m", "5-15m", "15-60m", "1-4h", "4-8h", "8-24h", "1-3d", ">3d")
ZERO_BELOW = 0.5  # durations under half a second count as zero (an instant answer)

Sketch = dict[str, Any]


def empty() -> Sketch:
    return {"b": {}, "z": 0}


def key_of(seconds: float) -> str | None:
    """The bin of ``seconds`` (None: the zero bucket)."""
    return None if seconds < ZERO_BELOW else str(_MAPPING.key(seconds))


def add(sketch: Sketch, seconds: float, weight: int = 1) -> None:
    add_key(sketch, key_of(seconds), weight)


def add_key(sketch: Sketch, key: str | None, weight: int = 1) -> None:
    if key is None:
        sketch["z"] = int(sketch.get("z", 0)) + weight
        return
    bins: dict[str, int] = sketch.setdefault("b", {})
    bins[key] = bins.get(key, 0) + weight


def merge_into(target: Sketch, other: Mapping[str, Any]) -> None:
    target["z"] = target.get("z", 0) + other.get("z", 0)
    bins: dict[str, int] = target.setdefault("b", {})
    get = bins.get
    for key, n in (other.get("b") or {}).items():
        bins[key] = get(key, 0) + n


def merged(sketches: Iterable[Mapping[str, Any]]) -> Sketch:
    total = empty()
    for sketch in sketches:
        merge_into(total, sketch)
    return total


def count(sketch: Mapping[str, Any]) -> int:
    return int(sketch.get("z", 0)) + sum(int(c) for c in (sketch.get("b") or {}).values())


def quantile(sketch: Mapping[str, Any], q: float) -> float | None:
    """The value at rank ``q * (n - 1)`` (DDSketch's definition: the lower median for an even
    count), within 1 %; None for no values."""
    total = count(sketch)
    if total == 0:
        return None
    rank = q * (total - 1)
    running = float(sketch.get("z", 0))
    if running > rank:
        return 0.0
    for key in sorted((int(k) for k in (sketch.get("b") or {})), key=int):
        running += int(sketch["b"][str(key)])
        if running > rank:
            return float(_MAPPING.value(key))
    return None  # not reached: the ranks add up to ``total``


def bucket(seconds: float) -> int:
    for index, bound in enumerate(BOUNDS):
        if seconds < bound:
            return index
    return len(BOUNDS)


def bucket_range(index: int) -> tuple[float, float | None]:
    """Seconds ``[low, high)`` of histogram bucket ``index`` (high None: open)."""
    low = 0.0 if index == 0 else float(BOUNDS[index - 1])
    return low, float(BOUNDS[index]) if index < len(BOUNDS) else None


def empty_hist() -> list[int]:
    return [0] * (len(BOUNDS) + 1)


def add_hist(hist: list[int], other: Iterable[int]) -> list[int]:
    values = list(other)
    if not hist:
        hist = empty_hist()
    return [a + b for a, b in zip(hist, values + [0] * (len(hist) - len(values)), strict=False)]
