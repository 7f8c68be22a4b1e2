"""Following the cursor log: replay from the store, then live events from the bus.

The subscription is opened before the backlog is read, so nothing committed in between
is missed; positions already delivered are skipped, so nothing is doubled. A gap in the
live sequence (a publish overtaken by another, or a dropped message) is filled from the
store; an overflowed subscription is replaced and the subscriber catches up by cursor.
Every read from the store also reads what is still retained, in the same snapshot: events
after the subscriber's position that were pruned meanwhile end the stream with
`CURSOR_EXPIRED`, never a silent gap.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from sessiond.bus.base import EventBus, SubscriptionClosed, SubscriptionOverflow
from sessiond.core.errors import CursorExpired, Unavailable
from sessiond.core.models import Event

BATCH = 500

ReadAfter = Callable[[int, int], Awaitable[tuple[int, list[Event]]]]
"""(position, limit) -> (`retained_from` of the log, up to `limit` events after position),
read in one snapshot."""
Position = Callable[[Event], int]


def retained_from(oldest: int, head: int) -> int:
    """The first position still retained: the oldest stored event's, or with none stored
    (all pruned, or none yet) the next one's."""
    return oldest or head + 1


def ensure_retained(after: int, retained: int) -> None:
    """Raises `CURSOR_EXPIRED` when events after `after` are no longer all stored."""
    if after + 1 < retained:
        raise CursorExpired(after, retained)


async def follow(
    bus: EventBus,
    topic: str,
    read_after: ReadAfter,
    position: Position,
    after: int,
    max_pending: int = 1024,
) -> AsyncIterator[Event]:
    """Every event with position > `after`, in order, exactly once; runs until cancelled.
    `after` 0 asks for everything retained: until one event is delivered, events pruned
    meanwhile are not owed; after it, a pruned gap is `CURSOR_EXPIRED`."""
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
        retained, batch = await read_after(last, BATCH)
        if last:
            ensure_retained(last, retained)
        for event in batch:
            if until and position(event) >= until:
                return
            last = position(event)
            yield event
        if len(batch) < BATCH:
            return
