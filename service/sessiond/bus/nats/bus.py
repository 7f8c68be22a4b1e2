"""NatsBus: the EventBus across processes (replicas), over one NATS connection each.

Local delivery is a MemoryBus of the bus's own (bounded buffers, merging of continued
deltas, overflow, one object for every local subscriber). A topic with local subscribers
has one NATS subscription, made when its first local subscriber comes and dropped when
its last one leaves (`TopicListener`); a message from NATS is decoded once and handed to
every local subscription of its topic.

A publish is delivered locally at once, then handed to NATS, whose echo is off
(`no_echo`): each local subscriber gets the message once, from the publisher itself, as
the very object published, in publish order, whether or not NATS is reachable; other
processes get it from NATS, which keeps one connection's messages on a subject in order.

`publish` never waits for subscribers: nats-py appends the message to its pending buffer
and its flusher task writes the buffer at the next turn of the event loop (batching what
was published meanwhile); nothing waits for a server round trip. Delivery is at most
once. While the connection is down nats-py buffers publishes (up to `pending_size`) and
sends them after it reconnects; past that the message is dropped (counted in `dropped`,
logged). A durable event larger than the server's `max_payload` goes as an `EventRef`
(its positions; subscribers read it from the store); another message that large is
dropped. Messages published elsewhere while this process was cut off are not received. A
subscriber notices nothing but silence (heartbeats go on: they are local); its cursor
follower fills any gap from the store when the next event arrives. nats-py reconnects
without end and then subscribes again to every subject; a connection closed for good (an
authorization error, say) ends every subscription with SubscriptionClosed, as closing
the bus does, so streams end UNAVAILABLE and clients resume by cursor on another
replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from nats import errors as nats_errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from sessiond.bus.memory import MemoryBus, MemorySubscription
from sessiond.bus.nats.subjects import DEFAULT_PREFIX, check_prefix, subject_of
from sessiond.bus.nats.wire import decode, encode
from sessiond.domain.events import Event, EventRef

log = structlog.get_logger(__name__)

CONNECT_TIMEOUT_S = 10.0
"""The first connection must be up within this, or the server does not start."""
READY_TIMEOUT_S = 2.0
"""`Subscription.ready` waits at most this long for the server's confirmation."""
RECONNECT_WAIT_S = 2.0
DRAIN_TIMEOUT_S = 5
PUBLISH_FLUSH_TIMEOUT_S = 1.0
"""A publish that finds the pending buffer full waits this long for it to be written."""
_NATS_ERRORS = (nats_errors.Error, OSError)


class NatsBus:
    """The EventBus over NATS. Made by `NatsBus.connect`."""

    def __init__(
        self,
        connection: Client,
        prefix: str = DEFAULT_PREFIX,
        *,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> None:
        self._nc = connection
        self.prefix = check_prefix(prefix)
        self._ready_timeout_s = ready_timeout_s
        self._local = MemoryBus(self)
        self._remote: dict[str, NatsSubscription] = {}
        self._ready: dict[str, asyncio.Future[None]] = {}
        """Per topic with local subscribers: done once NATS confirmed its subscription."""
        self._changed: set[str] = set()
        self._wake = asyncio.Event()
        self._maintainer = asyncio.create_task(self._maintain(), name="nats-bus-topics")
        self._last: tuple[object, bytes] = (None, b"")
        self._drop_logged = False
        self.closed = False
        self.dropped = 0
        """Messages published here that could not be handed to NATS."""

    @classmethod
    async def connect(
        cls,
        servers: str | list[str],
        prefix: str = DEFAULT_PREFIX,
        *,
        name: str = "sessiond",
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        reconnect_wait_s: float = RECONNECT_WAIT_S,
        ready_timeout_s: float = READY_TIMEOUT_S,
    ) -> NatsBus:
        """A bus on a new connection to `servers` (`nats://host:4222`, or a comma-separated
        list of URLs). OSError when no server answers within `connect_timeout_s`."""
        urls = [u.strip() for u in servers.split(",")] if isinstance(servers, str) else servers
        bus = cls(Client(), prefix, ready_timeout_s=ready_timeout_s)
        # Passed as a dict: nats-py annotates some of these seconds as int.
        options: dict[str, Any] = {
            "name": name,
            "no_echo": True,
            "max_reconnect_attempts": -1,
            "reconnect_time_wait": reconnect_wait_s,
            "drain_timeout": DRAIN_TIMEOUT_S,
            "flush_timeout": PUBLISH_FLUSH_TIMEOUT_S,
            "error_cb": bus._on_error,
            "disconnected_cb": bus._on_disconnected,
            "reconnected_cb": bus._on_reconnected,
            "closed_cb": bus._on_closed,
        }
        try:
            await asyncio.wait_for(bus._nc.connect(urls, **options), connect_timeout_s)
        except (TimeoutError, *_NATS_ERRORS) as exc:
            await bus.close()
            raise OSError(
                f"cannot connect to NATS ({len(urls)} server(s)) within {connect_timeout_s:g} s:"
                f" {type(exc).__name__} {exc}".rstrip()
            ) from exc
        return bus

    # -- the EventBus -----------------------------------------------------------------

    async def publish(self, topic: str, message: object) -> None:
        self._local.deliver(topic, message)
        if self.closed:
            return
        try:
            await self._nc.publish(subject_of(self.prefix, topic), self._encoded(message))
        except _NATS_ERRORS as exc:
            self._dropped(topic, exc)

    def subscribe(self, topic: str, max_pending: int = 1024) -> MemorySubscription:
        return self._local.subscribe(topic, max_pending)

    def subscriber_count(self) -> int:
        return self._local.subscriber_count()

    @property
    def connected(self) -> bool:
        """Whether the connection to NATS is up now (it reconnects by itself)."""
        return self._nc.is_connected

    async def end_subscriptions(self) -> None:
        """Ends every local subscription; publishes still go to NATS until `close`."""
        await self._local.close()

    async def close(self) -> None:
        """Ends every subscription, then drains the connection (what was published is
        sent) and closes it."""
        if self.closed:
            return
        await self._shut_down()
        await self._close_connection()

    # -- what NATS subscriptions the local subscribers need -----------------------------

    def topic_opened(self, topic: str) -> None:
        if self.closed:
            return
        self._ready[topic] = asyncio.get_running_loop().create_future()
        self._changed.add(topic)
        self._wake.set()

    def topic_closed(self, topic: str) -> None:
        _resolve(self._ready.pop(topic, None))
        if not self.closed:
            self._changed.add(topic)
            self._wake.set()

    async def topic_ready(self, topic: str) -> None:
        waiter = self._ready.get(topic)
        if waiter is None or waiter.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(waiter), self._ready_timeout_s)
        except TimeoutError:
            log.warning("bus.nats.subscribe_unconfirmed", topic=topic)

    async def _maintain(self) -> None:
        """Subscribes and unsubscribes as topics gain and lose local subscribers; one task,
        so a topic's subscribe and unsubscribe reach NATS in the order they happened. Ends
        when the bus closes (nats-py swallows a cancellation that finds it flushing)."""
        while not self.closed:
            await self._wake.wait()
            self._wake.clear()
            changed, self._changed = self._changed, set()
            wanted = [topic for topic in changed if await self._reconcile(topic)]
            await self._confirm(wanted)

    async def _reconcile(self, topic: str) -> bool:
        """Brings the topic's NATS subscription in line; True when the topic has one."""
        wanted = self._local.has_subscribers(topic)
        remote = self._remote.get(topic)
        try:
            if wanted and remote is None:
                subject = subject_of(self.prefix, topic)
                self._remote[topic] = await self._nc.subscribe(subject, cb=self._receiver(topic))
            elif not wanted and remote is not None:
                del self._remote[topic]
                await remote.unsubscribe()
        except _NATS_ERRORS as exc:
            log.warning("bus.nats.subscription_failed", topic=topic, error=repr(exc))
        return wanted

    async def _confirm(self, topics: list[str]) -> None:
        """One round trip (PING/PONG) confirms the server has every subscription sent
        before it; then the topics are ready. Without a connection they are ready at
        once: nats-py subscribes again when it is back, and a gap is read from the store."""
        if not topics:
            return
        if self._nc.is_connected:
            timeout = max(1, math.ceil(self._ready_timeout_s))
            with contextlib.suppress(TimeoutError, *_NATS_ERRORS):
                # nats-py's flush() writes its PING straight to the socket, ahead of what
                # waits in its pending buffer (these SUBs): have the flusher task write that
                # first, or the PONG may come before the server has the subscriptions.
                await self._nc._flush_pending(force_flush=True)
                await self._nc.flush(timeout)
        for topic in topics:
            _resolve(self._ready.get(topic))

    def _receiver(self, topic: str) -> Callable[[Msg], Awaitable[None]]:
        async def receive(msg: Msg) -> None:
            if self.closed or not self._local.has_subscribers(topic):
                return
            try:
                message = decode(msg.data)
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("bus.nats.undecodable", topic=topic, error=repr(exc))
                return
            self._local.deliver(topic, message)

        return receive

    # -- publishing and the connection's life -------------------------------------------

    def _encoded(self, message: object) -> bytes:
        # The committer publishes each event twice (its session's topic, then the feed).
        last, payload = self._last
        if last is not message:
            payload = encode(message)
            if len(payload) > self._nc.max_payload and isinstance(message, Event):
                # NATS would refuse it: the subscribers learn where it is and read it from
                # the store (without this they would see it only at the next event).
                payload = encode(EventRef.of(message))
            self._last = (message, payload)
        return payload

    def _dropped(self, topic: str, exc: Exception) -> None:
        self.dropped += 1
        if not self._drop_logged:  # once per connection, not once per message of an outage
            self._drop_logged = True
            log.warning("bus.nats.publish_dropped", topic=topic, error=repr(exc))

    async def _shut_down(self) -> None:
        self.closed = True
        await self._local.close()
        self._wake.set()
        self._maintainer.cancel()
        if asyncio.current_task() is not self._maintainer:
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintainer
        for waiter in self._ready.values():
            _resolve(waiter)
        self._ready.clear()

    async def _close_connection(self) -> None:
        nc = self._nc
        if nc.is_closed:
            return
        try:
            if nc.is_connected:
                await nc.drain()
                return
        except (TimeoutError, *_NATS_ERRORS) as exc:
            log.warning("bus.nats.drain_failed", error=repr(exc))
        await nc.close()

    async def _on_error(self, exc: Exception) -> None:
        log.warning("bus.nats.error", error=repr(exc))

    async def _on_disconnected(self) -> None:
        if not self.closed:
            log.warning("bus.nats.disconnected")

    async def _on_reconnected(self) -> None:
        self._drop_logged = False
        log.info("bus.nats.reconnected")

    async def _on_closed(self) -> None:
        if not self.closed:
            # nats-py gave up on the connection (it reconnects otherwise): without it this
            # process would miss other replicas' events unnoticed. End the streams instead.
            log.error("bus.nats.connection_lost", error=repr(self._nc.last_error))
            await self._shut_down()


def _resolve(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
