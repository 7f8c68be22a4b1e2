"""Which write functions are short, learned from how long each took to run.

The store may commit a quiet loop's short writes right on the loop (`store.py`); a long
one there (an archive, a cleanup) would hold every stream of the server. Callers do not
say which is which: a write function is known by its code (a wrapper that sets
`__wrapped__`, as `functools.wraps` does, is seen through), and one whose recent runs
averaged under `LIMIT_S` is short. A function not seen yet is not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LIMIT_S = 0.002
WEIGHT = 0.25
"""The weight of the newest run in a function's average duration."""
MAX_FUNCTIONS = 4096


def write_kind(fn: Callable[..., Any]) -> object | None:
    """What identifies a write function across calls: its code; None for one without."""
    return getattr(getattr(fn, "__wrapped__", fn), "__code__", None)


class ShortWrites:
    def __init__(self, limit_s: float = LIMIT_S) -> None:
        self.limit_s = limit_s
        self._average_s: dict[object, float] = {}

    def is_short(self, kind: object | None) -> bool:
        if kind is None:
            return False
        average = self._average_s.get(kind)
        return average is not None and average < self.limit_s

    def took(self, kind: object | None, seconds: float) -> None:
        """Records one run (on whichever thread ran it: the average is only a hint)."""
        if kind is None:
            return
        average = self._average_s.get(kind)
        if average is None:
            if len(self._average_s) >= MAX_FUNCTIONS:
                self._average_s.clear()
            self._average_s[kind] = seconds
        else:
            self._average_s[kind] = average + (seconds - average) * WEIGHT
