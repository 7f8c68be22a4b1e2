"""The EventBus contract: fan-out of live messages to subscribers of a topic.

* `publish` never blocks on subscribers: it hands each message to every subscription's
  bounded buffer and returns. Delivery is at-most-once and ordered per topic from one
  publisher; the durable record is the store's cursor log, so a subscriber that missed
  something re-reads the store by cursor.
* A message with a `merge(next) -> merged | None` method (live text deltas) may absorb
  the next message when both wait in a buffer, so a slow subscriber gets fewer, larger
  deltas instead of falling behind.
* A subscription whose buffer is full is *overflowed*: it receives nothing more and its
  `get` raises `SubscriptionOverflow` once the buffered messages are consumed. The owner
  decides what to do (catch up from the store, or end the client's stream).
* `close` is idempotent and may be called from a `finally` of a cancelled task.
* Closing the bus ends every subscription: `get` returns what is buffered, then raises
  `SubscriptionClosed`.

Messages are transport-neutral domain objects (the NATS bus encodes them).
"""

from __future__ import annotations

from typing import Protocol


class SubscriptionOverflow(Exception):
    """The subscriber fell too far behind; messages were dropped after this point."""


class SubscriptionClosed(Exception):
    """The bus is shutting down; nothing more will arrive."""


class Subscription(Protocol):
    async def get(self, wait_s: float | None = None) -> object | None:
        """The next message, or None after `wait_s` seconds of silence.

        Raises SubscriptionOverflow once the buffered messages before a drop are consumed.
        """
        ...

    def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, topic: str, message: object) -> None: ...

    def subscribe(self, topic: str, max_pending: int = 1024) -> Subscription: ...

    def subscriber_count(self) -> int:
        """Subscriptions open in this process (a metric)."""
        ...

    async def close(self) -> None: ...
