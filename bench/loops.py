"""Event loop choice for the harness's own processes (servers and load generators)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
LOOPS = ("uvloop", "asyncio")


def have_uvloop() -> bool:
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def default_loop() -> str:
    return "uvloop" if have_uvloop() else "asyncio"


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if name == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    if name != "asyncio":
        raise ValueError(f"unknown event loop {name!r}")
    return None


def run(main: Coroutine[Any, Any, T], loop: str) -> T:
    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        return runner.run(main)
