"""The EventBus contract: fan-out of live messages to subscribers of a topic.

What every bus guarantees (`tests/contract/test_bus_contract.py` checks each point):

* **Not durable, at most once.** `publish` never blocks on subscribers: it hands the
  message to the buffer of every subscription of the topic and returns. A subscription
  receives a message once or not at all. The durable record is the store's cursor log:
  a subscriber that missed something (overflow, reconnect) re-reads the store by cursor.
* **From subscribe on.** A subscription receives the messages published after
  `subscribe` returned (for a bus spanning processes: those this process publishes after
  that, and those of other processes once the subscription reached the broker); never
  one published before. `await subscription.ready()` returns once it has reached the
  broker (at once on a bus within one process; a bus cut off from its broker returns
  after a bounded wait): a subscriber that then reads the store misses nothing.
* **Ordered per topic and publisher.** The messages one publisher publishes on one topic
  arrive in publish order (after any merging, below). Nothing is promised across topics
  or between publishers.
* **One object for every local subscriber.** Messages are immutable domain objects (a
  bus spanning processes encodes them). One message is handed to every subscription of
  the topic in this process at once, as the same object (published here, or decoded
  once on arrival), so a subscriber may cache what it derives from a message by the
  message's identity. A subscriber must not modify a message. A merged message (below)
  is a new object, the subscription's own.
* **Merging.** A message with `continued_by(next) -> bool` and `extended(parts)` (live
  text deltas, `domain.events.LiveDelta`) absorbs the messages that continue it while
  they wait together in one subscription's buffer: the subscriber receives one delta
  holding their text, in place of the first, in one buffer slot; a message that does
  not continue it is not absorbed and keeps its place. A message taken before the next
  one arrives is received as published; a slow subscriber gets fewer, larger deltas
  with the same text.
* **Overflow.** A subscription whose buffer holds `max_pending` messages when another
  one arrives (and does not merge) is *overflowed*: that message and every later one are
  dropped. `get` returns the messages buffered before the drop, then raises
  `SubscriptionOverflow` at every call. The owner decides what to do (catch up from the
  store on a new subscription, or end the client's stream).
* **Waiting.** `get(wait_s)` returns None when nothing arrives within `wait_s` seconds
  (heartbeats); `get()` waits until a message arrives or the subscription ends.
* **Closing a subscription** (`close`) is idempotent and may be called from a `finally`
  of a cancelled task; the subscription drops what it buffered, receives nothing more
  and leaves `subscriber_count`.
* **Closing the bus** (idempotent) ends every subscription: `get` returns what is
  buffered, then raises `SubscriptionClosed` (so does a `get` waiting at that moment,
  and any `get` of a subscription made after the bus closed).
* **Ending the subscriptions** (`end_subscriptions`, idempotent) ends them as closing
  does, while what is published still reaches other processes until `close`: a
  draining server ends its streams first, then commits the end of its last runs.
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

        Raises SubscriptionOverflow once the messages buffered before a drop are consumed,
        and SubscriptionClosed once those buffered before the bus closed are.
        """
        ...

    async def ready(self) -> None:
        """Returns once what other processes publish on the topic reaches this
        subscription (at once on a bus within one process).

        A subscriber that reads the store after subscribing awaits this first, so an event
        committed elsewhere after that read cannot pass it by. A bus cut off from its
        broker returns within its own bound all the same: what it misses meanwhile is
        read from the store at the next cursor gap.
        """
        ...

    def close(self) -> None:
        """Leaves the topic and drops what is buffered; idempotent."""
        ...


class EventBus(Protocol):
    async def publish(self, topic: str, message: object) -> None:
        """Hands `message` to every subscription of `topic`; never waits for them."""
        ...

    def subscribe(self, topic: str, max_pending: int = 1024) -> Subscription:
        """A subscription buffering at most `max_pending` messages (merged ones count one)."""
        ...

    def subscriber_count(self) -> int:
        """Subscriptions open in this process (a metric)."""
        ...

    async def end_subscriptions(self) -> None:
        """Ends every subscription in this process; publishing to others goes on."""
        ...

    async def close(self) -> None:
        """Ends every subscription (see the module docstring); idempotent."""
        ...
