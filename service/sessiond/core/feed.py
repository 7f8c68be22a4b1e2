"""Following the cursor log: replay from the store, then live events from the bus.

The subscription is opened before the backlog is read, so nothing committed in between
is missed; positions already delivered are skipped, so nothing is doubled. A gap in the
live sequence (a publish overtaken by another, or a dropped message) is filled from the
store; an overflowed subscription is replaced and the subscriber catches up by cursor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from sessiond.bus.base import EventBus, SubscriptionClosed, SubscriptionOverflow
from sessiond.core.errors import Unavailable
from sessiond.core.models import Event

BATCH = 500

ReadAfter = Callable[[int, int], Awaitable[list[Event]]]
Position = Callable[[Event], int]


async def follow(
    bus: EventBus,
    topic: str,
    read_after: ReadAfter,
    position: Position,
    after: int,
    max_pending: int = 1024,
) -> AsyncIterator[Event]:
    """Every event with position > `after`, in order, exactly once; runs until cancelled."""
    last = after
    while True:
        subscription = bus.subscribe(topic, max_pending)
        try:
            async for event in _replay(read_after, position, last):
                last = position(event)
                yield event
            while True:
                try:
                    event = await subscription.get()  # type: ignore[assignment]
                except SubscriptionOverflow:
                    break
                except SubscriptionClosed:
                    raise Unavailable("server shutting down; reconnect with after_cursor") from None
                pos = position(event)
                if pos <= last:
                    continue
                if pos > last + 1:
                    async for missed in _replay(read_after, position, last, until=pos):
                        last = position(missed)
                        yield missed
                last = pos
                yield event
        finally:
            subscription.close()


async def _replay(
    read_after: ReadAfter, position: Position, after: int, until: int = 0
) -> AsyncIterator[Event]:
    """Stored events after `after` (and before `until`, when given)."""
    last = after
    while True:
        batch = await read_after(last, BATCH)
        for event in batch:
            if until and position(event) >= until:
                return
            last = position(event)
            yield event
        if len(batch) < BATCH:
            return
