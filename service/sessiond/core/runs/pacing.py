"""Pacing an agent's event stream: coalesced text is released when the agent pauses."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def paced(
    events: AsyncIterator[T],
    seconds_until_due: Callable[[], float | None],
    release: Callable[[], Awaitable[None]],
) -> AsyncIterator[T]:
    """`events`, calling `release` whenever the next one takes longer than the pending
    text's interval (`seconds_until_due`: None while nothing is pending).

    With nothing pending to release, the next event is awaited directly; only while text
    waits for its interval does the wait need a task and a timeout. The source is closed
    when this generator is (a cancelled run releases the backend's HTTP stream)."""
    iterator = aiter(events)
    pending: asyncio.Task[T] | None = None
    try:
        while True:
            wait_s = seconds_until_due()
            if pending is None and wait_s is None:
                try:
                    event = await anext(iterator)
                except StopAsyncIteration:
                    return
                yield event
                continue
            if pending is None:
                pending = asyncio.ensure_future(anext(iterator))
            done, _ = await asyncio.wait({pending}, timeout=wait_s)
            if not done:
                await release()
                continue
            task, pending = pending, None
            try:
                event = task.result()
            except StopAsyncIteration:
                return
            yield event
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(BaseException):
                await pending
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()
