"""In-process EventBus (default): one bounded buffer per subscription.

A waiting `get` parks on one future (and, with a timeout, one timer handle) that `offer`
completes: no task per wait, so an event reaches 1,000 subscribers of a topic with 1,000
future callbacks rather than 1,000 tasks and timers created and cancelled.

A bus spanning processes (`bus/nats`) delivers through a MemoryBus of its own: the
`TopicListener` it passes learns when a topic gets its first subscriber here and loses
its last, and says when a subscription receives what other processes publish (`ready`).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from typing import Any, Protocol

from sessiond.bus.base import SubscriptionClosed, SubscriptionOverflow


class _Chain:
    """Messages waiting in a buffer that merge into one when taken: the first has
    `continued_by(next)` and `extended(rest)` (live text deltas). One buffer slot, like
    the merged message it becomes; merging once at `get` instead of at every `offer`
    keeps a lagging subscriber from copying the growing text for each new delta."""

    __slots__ = ("first", "last", "rest")

    def __init__(self, first: Any, second: Any) -> None:
        self.first = first
        self.last = second
        self.rest = [second]

    def add(self, message: Any) -> bool:
        if not self.last.continued_by(message):
            return False
        self.rest.append(message)
        self.last = message
        return True

    def merged(self) -> object:
        return self.first.extended(self.rest)


class TopicListener(Protocol):
    """Follows which topics have subscribers in this process."""

    def topic_opened(self, topic: str) -> None:
        """`topic` got its first subscriber."""
        ...

    def topic_closed(self, topic: str) -> None:
        """`topic` lost its last subscriber."""
        ...

    async def topic_ready(self, topic: str) -> None:
        """Returns once what other processes publish on `topic` reaches this one."""
        ...


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class MemorySubscription:
    __slots__ = (
        "_buffer",
        "_bus",
        "_max_pending",
        "_waiter",
        "closed",
        "overflowed",
        "shut_down",
        "topic",
    )

    def __init__(self, bus: MemoryBus, topic: str, max_pending: int) -> None:
        self._bus = bus
        self.topic = topic
        self._buffer: deque[object] = deque()
        self._max_pending = max_pending
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False
        self.closed = False
        self.shut_down = False

    def offer(self, message: object) -> None:
        if self.overflowed or self.closed:
            return
        if self._buffer and self._merge_into_tail(message):
            return
        if len(self._buffer) >= self._max_pending:
            self.overflowed = True
        else:
            self._buffer.append(message)
        self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            _wake(waiter)

    def _merge_into_tail(self, message: object) -> bool:
        tail = self._buffer[-1]
        if type(tail) is _Chain:
            return tail.add(message)
        continued_by = getattr(tail, "continued_by", None)
        if continued_by is None or not continued_by(message):
            return False
        self._buffer[-1] = _Chain(tail, message)
        return True

    async def get(self, wait_s: float | None = None) -> object | None:
        """The next message; None when `wait_s` seconds pass first."""
        while not self._buffer:
            if self.overflowed:
                raise SubscriptionOverflow(self.topic)
            if self.shut_down:
                raise SubscriptionClosed(self.topic)
            loop = asyncio.get_running_loop()
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiter = waiter
            timer = loop.call_later(wait_s, _wake, waiter) if wait_s is not None else None
            try:
                await waiter
            finally:
                if timer is not None:
                    timer.cancel()
                if self._waiter is waiter:
                    self._waiter = None
            if not self._buffer and wait_s is not None and not (self.overflowed or self.shut_down):
                return None
        item = self._buffer.popleft()
        return item.merged() if type(item) is _Chain else item

    async def ready(self) -> None:
        await self._bus.ready(self.topic)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._buffer.clear()
            self._bus.remove(self)


class MemoryBus:
    def __init__(self, listener: TopicListener | None = None) -> None:
        self._topics: defaultdict[str, set[MemorySubscription]] = defaultdict(set)
        self._listener = listener
        self.closed = False

    async def publish(self, topic: str, message: object) -> None:
        self.deliver(topic, message)

    def deliver(self, topic: str, message: object) -> None:
        """Hands `message` to every subscription of `topic` (the same object to each)."""
        subscribers = self._topics.get(topic)
        if subscribers and not self.closed:
            for subscription in tuple(subscribers):
                subscription.offer(message)

    def subscribe(self, topic: str, max_pending: int = 1024) -> MemorySubscription:
        subscription = MemorySubscription(self, topic, max_pending)
        # A subscription made after the bus closed ends at once, like those it closed.
        subscription.shut_down = self.closed
        first = topic not in self._topics
        self._topics[topic].add(subscription)
        if first and self._listener is not None:
            self._listener.topic_opened(topic)
        return subscription

    def remove(self, subscription: MemorySubscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._topics[subscription.topic]
                if self._listener is not None:
                    self._listener.topic_closed(subscription.topic)

    def has_subscribers(self, topic: str) -> bool:
        return topic in self._topics

    async def ready(self, topic: str) -> None:
        if self._listener is not None and not self.closed:
            await self._listener.topic_ready(topic)

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._topics.values())

    async def end_subscriptions(self) -> None:
        await self.close()  # nothing reaches other processes from here

    async def close(self) -> None:
        self.closed = True
        for subscribers in list(self._topics.values()):
            for subscription in list(subscribers):
                subscription.shut_down = True
                subscription.wake()
