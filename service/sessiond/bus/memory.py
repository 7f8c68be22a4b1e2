"""In-process EventBus (default): one bounded queue per subscription."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sessiond.bus.base import SubscriptionOverflow

_OVERFLOW = object()


class MemorySubscription:
    def __init__(self, bus: MemoryBus, topic: str, max_pending: int) -> None:
        self._bus = bus
        self.topic = topic
        # One slot beyond max_pending is kept for the overflow marker.
        self._queue: asyncio.Queue[object] = asyncio.Queue(max_pending + 1)
        self._max_pending = max_pending
        self.overflowed = False
        self.closed = False

    def offer(self, message: object) -> None:
        if self.overflowed or self.closed:
            return
        if self._queue.qsize() >= self._max_pending:
            self.overflowed = True
            self._queue.put_nowait(_OVERFLOW)
            return
        self._queue.put_nowait(message)

    async def get(self) -> object:
        message = await self._queue.get()
        if message is _OVERFLOW:
            raise SubscriptionOverflow(self.topic)
        return message

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus.remove(self)


class MemoryBus:
    def __init__(self) -> None:
        self._topics: defaultdict[str, set[MemorySubscription]] = defaultdict(set)

    async def publish(self, topic: str, message: object) -> None:
        for subscription in tuple(self._topics.get(topic, ())):
            subscription.offer(message)

    def subscribe(self, topic: str, max_pending: int = 1024) -> MemorySubscription:
        subscription = MemorySubscription(self, topic, max_pending)
        self._topics[topic].add(subscription)
        return subscription

    def remove(self, subscription: MemorySubscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._topics[subscription.topic]

    def subscriber_count(self) -> int:
        return sum(len(s) for s in self._topics.values())

    async def close(self) -> None:
        for subscribers in list(self._topics.values()):
            for subscription in list(subscribers):
                subscription.close()
