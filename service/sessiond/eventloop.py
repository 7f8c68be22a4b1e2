"""The asyncio event loop `sessiond serve` runs on: uvloop (default) or the standard one.

Measured with `make bench` (docs/benchmarks.md): uvloop serves more calls and streamed
events per CPU second than the standard loop; `event_loop = "asyncio"` turns it off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
EVENT_LOOPS = ("uvloop", "asyncio")


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the named loop; None for the standard one."""
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if name == "asyncio":
        return None
    raise ValueError(f"event_loop must be one of {', '.join(EVENT_LOOPS)}")


def run(main: Coroutine[Any, Any, T], name: str) -> T:
    with asyncio.Runner(loop_factory=loop_factory(name)) as runner:
        return runner.run(main)
