"""Following the cursor log: replay from the store, then live events from the bus.

One follower serves WatchChat and Chat (positions are a session's cursors) and
WatchSessions (positions are global). The subscription is opened (and, on a bus spanning
replicas, ready) before the backlog is read, so nothing committed in between is missed;
positions already delivered are skipped, so nothing is doubled. A gap in the live
sequence (a publish overtaken by another, a dropped or late message) is filled from the
store, and so is an event the bus carried only as a reference (`EventRef`: too large).
Every read from the store also reads what is still retained, in the same snapshot:
events after the follower's position that were pruned meanwhile end the stream with
`CURSOR_EXPIRED`, never a silent gap.

Live messages that are not durable events (reply deltas) pass through untouched; what a
stream does with them, and with an overflowed subscription, is its own business.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from sessiond.bus.base import Subscription
from sessiond.domain.errors import CursorExpired
from sessiond.domain.events import Event, EventRef

BATCH = 500

ReadAfter = Callable[[int, int], Awaitable[tuple[int, list[Event]]]]
"""(position, limit) -> (the first position still retained, up to `limit` events after
`position`), read in one snapshot."""
Position = Callable[[Event | EventRef], int]
OnLive = Callable[[], Awaitable[None]]
"""Called once when a watch has replayed and is live: what is committed later reaches it."""


def retained_from(oldest: int, head: int) -> int:
    """The first position still retained: the oldest stored event's, or with none stored
    (all pruned, or none yet) the next one's."""
    return oldest or head + 1


def ensure_retained(after: int, retained: int) -> None:
    """Raises `CURSOR_EXPIRED` when events after `after` are no longer all stored."""
    if after + 1 < retained:
        raise CursorExpired(after, retained)


def session_cursor(event: Event | EventRef) -> int:
    return event.cursor


def global_position(event: Event | EventRef) -> int:
    return event.global_seq


class CursorFollower:
    """Durable events after a position, each once and in order.

    `from_oldest`: the follower asked for everything retained (position 0, or just before
    the oldest retained event): until it has delivered one event, events pruned meanwhile
    are not owed to it. After that, a pruned gap is `CURSOR_EXPIRED`.
    """

    def __init__(
        self,
        subscription: Subscription,
        read_after: ReadAfter,
        position: Position,
        after: int,
        *,
        from_oldest: bool = False,
    ) -> None:
        self.subscription = subscription
        self.read_after = read_after
        self.position = position
        self.last = after
        """The position of the last event delivered (or the start)."""
        self.from_oldest = from_oldest

    def _delivered(self, event: Event) -> None:
        self.last = self.position(event)
        self.from_oldest = False

    async def replay(self, until: int = 0) -> AsyncIterator[Event]:
        """Stored events after the last delivered (and before `until`, when given)."""
        await self.subscription.ready()
        while True:
            after = self.last
            retained, batch = await self.read_after(after, BATCH)
            if not self.from_oldest:
                ensure_retained(after, retained)
            for event in batch:
                if until and self.position(event) >= until:
                    return
                self._delivered(event)
                yield event
            if len(batch) < BATCH:
                return

    async def live(self, wait_s: float | None = None) -> AsyncIterator[object | None]:
        """Live messages: durable events in order (gaps filled from the store, repeats
        skipped), other messages as they come, and None after `wait_s` of silence. Raises
        what the subscription raises (overflow, closing)."""
        while True:
            message = await self.subscription.get(wait_s)
            if not isinstance(message, Event | EventRef):
                yield message
                continue
            position = self.position(message)
            if position <= self.last:
                continue
            if isinstance(message, EventRef):  # too large for the bus: read with any gap
                async for stored in self.replay(until=position + 1):
                    yield stored
                continue
            if position > self.last + 1:
                async for missed in self.replay(until=position):
                    yield missed
            self._delivered(message)
            yield message

    def resubscribe(self, subscription: Subscription) -> None:
        """Replaces an overflowed subscription; `replay` then catches up from the store."""
        self.subscription.close()
        self.subscription = subscription

    def close(self) -> None:
        self.subscription.close()
