"""The EventBus contract (bus/base.py), run against each bus (see conftest.py).

Messages are the domain objects a bus carries: durable events and live deltas. Where a
test needs every message to have reached a subscription before it reads, a second
subscription of the topic, the witness, takes each message as it is published: one
message is handed to every local subscription of its topic at once, so when the witness
has the last one, every subscription has had them all.
"""

from __future__ import annotations

import asyncio

import pytest
from sessiond.bus.base import EventBus, Subscription, SubscriptionClosed, SubscriptionOverflow
from sessiond.domain.events import Event, LiveDelta, RunStarted

TOPIC = "chat:agent:main:a"
WAIT_S = 5.0
SILENCE_S = 0.05
"""How long a test listens for a message that must not come."""


def event(cursor: int, key: str = "agent:main:a") -> Event:
    return Event(cursor, key, cursor, 1000 + cursor, RunStarted(cursor, "sid"), run_id="run-1")


def delta(text: str, offset: int, *, run_id: str = "run-1", thinking: bool = False) -> LiveDelta:
    return LiveDelta("agent:main:a", run_id, text, offset, 2000 + offset, thinking)


async def next_message(subscription: Subscription) -> object:
    message = await subscription.get(WAIT_S)
    assert message is not None, "nothing arrived"
    return message


async def publish_all(bus: EventBus, messages: list[object], witness: Subscription) -> None:
    """Publishes `messages`, each once the witness has the one before (so the witness
    merges nothing); returns when it has the last."""
    for message in messages:
        await bus.publish(TOPIC, message)
        assert await next_message(witness) == message


async def test_messages_arrive_once_in_publish_order(bus: EventBus) -> None:
    subscription = bus.subscribe(TOPIC)
    published = [event(i) for i in range(1, 51)]
    for message in published:
        await bus.publish(TOPIC, message)
    assert [await next_message(subscription) for _ in published] == published
    assert await subscription.get(SILENCE_S) is None  # nothing twice


async def test_a_subscription_gets_only_what_is_published_after_it(bus: EventBus) -> None:
    await bus.publish(TOPIC, event(1))
    subscription = bus.subscribe(TOPIC)
    await bus.publish(TOPIC, event(2))
    assert await next_message(subscription) == event(2)


async def test_a_ready_subscription_receives(bus: EventBus) -> None:
    subscription = bus.subscribe(TOPIC)
    await asyncio.wait_for(subscription.ready(), WAIT_S)
    await bus.publish(TOPIC, event(1))
    assert await next_message(subscription) == event(1)
    await asyncio.wait_for(subscription.ready(), WAIT_S)  # ready again: at once


async def test_topics_are_separate(bus: EventBus) -> None:
    first, second = bus.subscribe("chat:a"), bus.subscribe("chat:b")
    await bus.publish("chat:b", event(1, "b"))
    await bus.publish("chat:a", event(2, "a"))
    assert await next_message(first) == event(2, "a")
    assert await next_message(second) == event(1, "b")


async def test_every_local_subscriber_gets_the_same_object(bus: EventBus) -> None:
    subscriptions = [bus.subscribe(TOPIC) for _ in range(3)]
    published = [event(1), delta("hello", 0)]
    for message in published:
        await bus.publish(TOPIC, message)
    for message in published:
        received = [await next_message(s) for s in subscriptions]
        assert received[0] == message
        assert all(r is received[0] for r in received)


async def test_continued_deltas_waiting_in_a_buffer_merge(bus: EventBus) -> None:
    slow, witness = bus.subscribe(TOPIC), bus.subscribe(TOPIC)
    parts: list[object] = [delta("Hel", 0), delta("lo ", 3), delta("world", 6)]
    await publish_all(bus, [*parts, event(1), delta("!", 11), delta("?", 12)], witness)
    merged = await next_message(slow)
    assert merged == LiveDelta("agent:main:a", "run-1", "Hello world", 0, 2006, False)
    assert await next_message(slow) == event(1)  # not absorbed; it keeps its place
    assert await next_message(slow) == LiveDelta("agent:main:a", "run-1", "!?", 11, 2012)
    assert await slow.get(SILENCE_S) is None


async def test_deltas_that_do_not_continue_keep_their_place(bus: EventBus) -> None:
    slow, witness = bus.subscribe(TOPIC), bus.subscribe(TOPIC)
    separate: list[object] = [
        delta("ab", 0),
        delta("cd", 5),  # a gap
        delta("ef", 7, thinking=True),  # thinking text
        delta("gh", 9, run_id="run-2"),  # another run
    ]
    await publish_all(bus, separate, witness)
    assert [await next_message(slow) for _ in separate] == separate


async def test_a_merged_delta_takes_one_buffer_slot(bus: EventBus) -> None:
    small, witness = bus.subscribe(TOPIC, max_pending=1), bus.subscribe(TOPIC)
    await publish_all(bus, [delta("a", 0), delta("b", 1), delta("c", 2)], witness)
    assert await next_message(small) == LiveDelta("agent:main:a", "run-1", "abc", 0, 2002)
    assert await small.get(SILENCE_S) is None  # not overflowed


async def test_a_delta_taken_before_the_next_arrives_comes_as_published(bus: EventBus) -> None:
    subscription = bus.subscribe(TOPIC)
    for part in (delta("one", 0), delta("two", 3)):
        await bus.publish(TOPIC, part)
        assert await next_message(subscription) == part


async def test_a_full_buffer_overflows_after_its_messages(bus: EventBus) -> None:
    small, witness = bus.subscribe(TOPIC, max_pending=2), bus.subscribe(TOPIC)
    await publish_all(bus, [event(1), event(2), event(3), event(4)], witness)
    assert await next_message(small) == event(1)
    assert await next_message(small) == event(2)
    with pytest.raises(SubscriptionOverflow):
        await small.get(WAIT_S)
    await publish_all(bus, [event(5)], witness)  # nothing more reaches it
    with pytest.raises(SubscriptionOverflow):
        await small.get()


async def test_get_returns_none_after_silence_then_the_next_message(bus: EventBus) -> None:
    subscription = bus.subscribe(TOPIC)
    assert await subscription.get(SILENCE_S) is None
    waiting = asyncio.create_task(subscription.get(WAIT_S))
    await bus.publish(TOPIC, event(1))
    assert await waiting == event(1)


async def test_closing_a_subscription_is_idempotent(bus: EventBus) -> None:
    assert bus.subscriber_count() == 0
    first, second = bus.subscribe(TOPIC), bus.subscribe(TOPIC)
    other = bus.subscribe("chat:other")
    assert bus.subscriber_count() == 3
    first.close()
    first.close()
    assert bus.subscriber_count() == 2
    await bus.publish(TOPIC, event(1))
    assert await next_message(second) == event(1)
    second.close()
    other.close()
    assert bus.subscriber_count() == 0


async def test_a_cancelled_reader_closes_its_subscription(bus: EventBus) -> None:
    reading = asyncio.Event()

    async def reader() -> None:
        subscription = bus.subscribe(TOPIC)
        try:
            reading.set()
            await subscription.get()
        finally:
            subscription.close()

    task = asyncio.create_task(reader())
    await reading.wait()
    assert bus.subscriber_count() == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert bus.subscriber_count() == 0


@pytest.mark.parametrize("ending", ["close", "end_subscriptions"])
async def test_closing_the_bus_ends_subscriptions_after_their_messages(
    bus: EventBus, ending: str
) -> None:
    buffered, idle = bus.subscribe(TOPIC), bus.subscribe("chat:idle")
    waiting_started = asyncio.Event()

    async def wait_on_idle() -> object | None:
        waiting_started.set()
        return await idle.get()

    waiting = asyncio.create_task(wait_on_idle())
    await waiting_started.wait()
    witness = bus.subscribe(TOPIC)
    await publish_all(bus, [event(1), event(2)], witness)
    await getattr(bus, ending)()
    assert await next_message(buffered) == event(1)
    assert await next_message(buffered) == event(2)
    with pytest.raises(SubscriptionClosed):
        await buffered.get(WAIT_S)
    with pytest.raises(SubscriptionClosed):
        await asyncio.wait_for(waiting, WAIT_S)
    await getattr(bus, ending)()  # again: harmless
    await bus.close()


@pytest.mark.parametrize("ending", ["close", "end_subscriptions"])
async def test_a_subscription_made_after_the_bus_closed_ends_at_once(
    bus: EventBus, ending: str
) -> None:
    await getattr(bus, ending)()
    subscription = bus.subscribe(TOPIC)
    await asyncio.wait_for(subscription.ready(), WAIT_S)
    await bus.publish(TOPIC, event(1))  # harmless, and it reaches nobody
    with pytest.raises(SubscriptionClosed):
        await subscription.get(WAIT_S)
