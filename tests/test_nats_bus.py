"""The NATS bus across processes: two NatsBus instances on one real NATS server are two
replicas. What one publishes reaches subscribers on both, in order, each once; local
delivery (buffers, merging, overflow, closing) is the memory bus's, and the NATS
subscription of a topic lives exactly as long as its local subscribers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from helpers import assert_eventually
from nats.aio.client import Client
from nats_broker import NatsServer, free_port
from sessiond.bus.base import Subscription, SubscriptionClosed, SubscriptionOverflow
from sessiond.bus.nats import NatsBus
from sessiond.bus.nats.subjects import subject_of
from sessiond.bus.nats.wire import encode
from sessiond.domain.events import Event, EventRef, Final, LiveDelta, RunStarted

TOPIC = "chat:agent:main:a"
WAIT_S = 5.0
SILENCE_S = 0.1
"""How long a test listens for a message that must not come."""


def event(cursor: int, key: str = "agent:main:a") -> Event:
    return Event(cursor, key, cursor, 1000 + cursor, RunStarted(cursor, "sid"), run_id="run-1")


async def next_message(subscription: Subscription) -> object:
    message = await subscription.get(WAIT_S)
    assert message is not None, "nothing arrived"
    return message


@dataclass
class Replicas:
    a: NatsBus
    b: NatsBus
    names: tuple[str, str]


@pytest.fixture
async def replicas(nats_url: str, nats_prefix: str) -> AsyncIterator[Replicas]:
    names = (f"{nats_prefix}-a", f"{nats_prefix}-b")
    a = await NatsBus.connect(nats_url, nats_prefix, name=names[0])
    b = await NatsBus.connect(nats_url, nats_prefix, name=names[1])
    try:
        yield Replicas(a, b, names)
    finally:
        await a.close()
        await b.close()


async def test_a_message_reaches_subscribers_on_every_replica_in_order_once(
    replicas: Replicas,
) -> None:
    here = replicas.a.subscribe(TOPIC)
    there = [replicas.b.subscribe(TOPIC) for _ in range(2)]
    for subscription in (here, *there):
        await subscription.ready()
    published = [event(i) for i in range(1, 101)]
    for message in published:
        await replicas.a.publish(TOPIC, message)
    # The publisher's own subscribers get the very objects published (NATS's echo is off).
    received_here = [await next_message(here) for _ in published]
    assert all(got is sent for got, sent in zip(received_here, published, strict=True))
    first, second = [[await next_message(s) for _ in published] for s in there]
    assert first == published
    # Decoded once per message: every subscriber of the replica gets the same object.
    assert all(x is y for x, y in zip(first, second, strict=True))
    for subscription in (here, *there):
        assert await subscription.get(SILENCE_S) is None  # nothing twice


async def test_deltas_cross_and_merge_in_the_receivers_buffer(replicas: Replicas) -> None:
    slow, witness = replicas.b.subscribe(TOPIC), replicas.b.subscribe(TOPIC)
    await slow.ready()
    parts = [
        LiveDelta("agent:main:a", "run-1", text, offset, 2000 + offset)
        for text, offset in (("Grüß ", 0), ("dich 🌍", 5), ("!", 11))
    ]
    for part in parts:  # each taken by the witness before the next is published
        await replicas.a.publish(TOPIC, part)
        assert await next_message(witness) == part
    merged = await next_message(slow)
    assert merged == LiveDelta("agent:main:a", "run-1", "Grüß dich 🌍!", 0, 2011)


async def test_topics_with_odd_characters_stay_apart(replicas: Replicas) -> None:
    keys = ["agent:main:a.b", "agent:main:*", "agent:main:>", "agent:main:x y\tz", "ünï:cödé", ""]
    topics = [f"chat:{key}" for key in keys] + ["feed", "chat", "odd topic:x", "_:y"]
    subjects = {subject_of("p", topic) for topic in topics}
    assert len(subjects) == len(topics)
    subscriptions = {topic: replicas.b.subscribe(topic) for topic in topics}
    for subscription in subscriptions.values():
        await subscription.ready()
    for number, topic in enumerate(topics, start=1):
        await replicas.a.publish(topic, event(number, key=topic))
    for number, topic in enumerate(topics, start=1):
        assert await next_message(subscriptions[topic]) == event(number, key=topic)
        assert await subscriptions[topic].get(SILENCE_S) is None


async def test_the_nats_subscription_lives_as_long_as_its_local_subscribers(
    replicas: Replicas, nats_server: NatsServer
) -> None:
    subject = subject_of(replicas.b.prefix, TOPIC)
    first, second = replicas.b.subscribe(TOPIC), replicas.b.subscribe(TOPIC)
    await second.ready()
    assert nats_server.subscriptions(replicas.names[1]) == {subject}  # one for both
    first.close()
    await replicas.a.publish(TOPIC, event(1))
    assert await next_message(second) == event(1)
    second.close()
    await assert_eventually(lambda: _assert_no_subscriptions(nats_server, replicas.names[1]))
    again = replicas.b.subscribe(TOPIC)
    await again.ready()
    assert nats_server.subscriptions(replicas.names[1]) == {subject}
    await replicas.a.publish(TOPIC, event(2))
    assert await next_message(again) == event(2)


def _assert_no_subscriptions(server: NatsServer, name: str) -> None:
    assert server.subscriptions(name) == set()


async def test_a_slow_subscriber_overflows_without_holding_back_others(
    replicas: Replicas,
) -> None:
    slow = replicas.b.subscribe(TOPIC, max_pending=4)
    fast = replicas.b.subscribe(TOPIC)
    await fast.ready()
    published = [event(i) for i in range(1, 201)]
    for message in published:
        await replicas.a.publish(TOPIC, message)
    assert [await next_message(fast) for _ in published] == published
    assert [await next_message(slow) for _ in range(4)] == published[:4]
    with pytest.raises(SubscriptionOverflow):
        await slow.get(WAIT_S)


async def test_closing_a_bus_ends_its_subscriptions_and_its_connection(
    replicas: Replicas, nats_server: NatsServer
) -> None:
    buffered, idle = replicas.b.subscribe(TOPIC), replicas.b.subscribe("chat:idle")
    await buffered.ready()
    waiting = asyncio.create_task(idle.get())
    for cursor in (1, 2):
        await replicas.a.publish(TOPIC, event(cursor))
    await assert_eventually(lambda: _assert_buffered(buffered, 2))
    await replicas.b.close()
    assert [await next_message(buffered) for _ in range(2)] == [event(1), event(2)]
    with pytest.raises(SubscriptionClosed):
        await buffered.get(WAIT_S)
    with pytest.raises(SubscriptionClosed):
        await asyncio.wait_for(waiting, WAIT_S)
    with pytest.raises(SubscriptionClosed):  # a subscription made after closing ends at once
        await replicas.b.subscribe(TOPIC).get(WAIT_S)
    await replicas.b.publish(TOPIC, event(3))  # harmless
    await replicas.b.close()  # idempotent
    await assert_eventually(lambda: _assert_gone(nats_server, replicas.names[1]))


def _assert_gone(server: NatsServer, name: str) -> None:
    assert name not in server.connections()


def _assert_buffered(subscription: Subscription, count: int) -> None:
    assert len(subscription._buffer) == count  # type: ignore[attr-defined]


async def test_a_message_this_release_cannot_read_is_dropped(
    replicas: Replicas, nats_url: str
) -> None:
    subscription = replicas.b.subscribe(TOPIC)
    await subscription.ready()
    raw = Client()
    await raw.connect(nats_url)
    try:
        subject = subject_of(replicas.b.prefix, TOPIC)
        for payload in (b"not json", b'{"v": 99, "t": "event"}', b'{"v": 1, "t": "x"}', b"[]"):
            await raw.publish(subject, payload)
        await raw.publish(subject, encode(event(7)))
        await raw.flush()
    finally:
        await raw.close()
    assert await next_message(subscription) == event(7)


async def test_connecting_to_no_server_fails_within_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(OSError, match="cannot connect to NATS"):
        await NatsBus.connect(f"nats://127.0.0.1:{free_port()}", connect_timeout_s=0.5)
    assert loop.time() - started < 3


async def test_an_outage_loses_messages_but_blocks_nobody_and_delivery_resumes(
    nats_prefix: str,
) -> None:
    server = NatsServer()  # a server of its own, to stop and start again
    server.start()
    a = await NatsBus.connect(server.url, nats_prefix, reconnect_wait_s=0.05)
    b = await NatsBus.connect(server.url, nats_prefix, reconnect_wait_s=0.05)
    try:
        here, there = a.subscribe(TOPIC), b.subscribe(TOPIC)
        await there.ready()
        await a.publish(TOPIC, event(1))
        assert await next_message(there) == event(1)
        assert await next_message(here) == event(1)
        server.stop()
        await assert_eventually(lambda: _assert_disconnected(a, b))
        await asyncio.wait_for(a.publish(TOPIC, event(2)), 1)  # buffered or dropped, not waited
        assert await next_message(here) == event(2)  # local delivery goes on
        assert await there.get(SILENCE_S) is None  # silence (heartbeats), not a hang
        fresh = b.subscribe("chat:during-outage")
        await asyncio.wait_for(fresh.ready(), 1)  # does not wait for the broker
        server.start()
        await assert_eventually(lambda: _assert_connected(a, b), timeout=10)

        async def delivered_again() -> None:
            await a.publish(TOPIC, event(3))
            received = []
            while (message := await there.get(0.2)) is not None:
                received.append(message)
            assert event(3) in received  # (event 2 too, if nats-py still had it buffered)

        await assert_eventually(delivered_again, timeout=10)
    finally:
        await a.close()
        await b.close()
        server.stop()


def _assert_disconnected(*buses: NatsBus) -> None:
    assert not any(bus.connected for bus in buses)


def _assert_connected(*buses: NatsBus) -> None:
    assert all(bus.connected for bus in buses)


async def test_an_event_too_large_for_nats_crosses_as_a_reference(replicas: Replicas) -> None:
    """NATS refuses a payload over its `max_payload` (1 MB by default): the event crosses
    as where it is, for the subscriber to read from the store; the publisher's own
    subscribers get the event itself."""
    here, there = replicas.a.subscribe(TOPIC), replicas.b.subscribe(TOPIC)
    await there.ready()
    huge = Event(7, "agent:main:a", 3, 1003, Final("x" * 1_100_000), run_id="run-1")
    await replicas.a.publish(TOPIC, huge)
    await replicas.a.publish(TOPIC, event(4))
    assert await next_message(here) is huge
    assert await next_message(there) == EventRef(7, "agent:main:a", 3, "run-1")
    assert await next_message(there) == event(4), "what follows is not held up"
    assert replicas.a.dropped == 0


async def test_after_its_subscriptions_ended_a_replica_still_publishes(
    replicas: Replicas,
) -> None:
    """A draining server ends its streams first; the end of a run it stops afterwards
    must still reach the other replicas."""
    here, there = replicas.a.subscribe(TOPIC), replicas.b.subscribe(TOPIC)
    await there.ready()
    await replicas.a.end_subscriptions()
    await replicas.a.publish(TOPIC, event(1))
    assert await next_message(there) == event(1)
    with pytest.raises(SubscriptionClosed):
        await here.get(WAIT_S)
