"""Percentiles and the median/min/max summary of repetitions."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def summary(reps: Sequence[dict[str, Any]], key: str) -> dict[str, Any]:
    """Median, min and max of `key` over the repetitions, and the values in order."""
    values = [float(r[key]) for r in reps if key in r]
    if not values:
        return {"median": 0.0, "min": 0.0, "max": 0.0, "values": []}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline else None


def paired_ratio(value: dict[str, Any], baseline: dict[str, Any]) -> float | None:
    """The median of the per-round ratios when both have one value per round of the
    plan (each repetition beside its baseline's), else the ratio of the medians."""
    values: list[float] = value.get("values", [])
    bases: list[float] = baseline.get("values", [])
    if len(values) > 1 and len(values) == len(bases) and all(bases):
        return statistics.median(v / b for v, b in zip(values, bases, strict=True))
    return ratio(value["median"], baseline["median"])


def counts_of(results: dict[str, Any], base: str) -> list[int]:
    """The in-flight counts measured for scenario `base` (names `base@<count>`), ascending."""
    found = (name.rpartition("@") for name in results if "@" in name)
    return sorted(int(n) for b, _, n in found if b == base)


def metric(results: dict[str, Any], name: str, key: str) -> dict[str, Any] | None:
    """The summary of `key` over scenario `name`'s repetitions; None when it did not run."""
    result = results.get(name)
    return summary(result["reps"], key) if result else None
