"""Committing a change together with its cursor-log events, then publishing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sessiond.bus.base import EventBus
from sessiond.domain.events import Event, EventBody, SessionChanged
from sessiond.domain.models import Session, SessionEventReason
from sessiond.store.base import Store, WriteTx

T = TypeVar("T")

FEED_TOPIC = "feed"
"""Every durable event of every session (WatchSessions)."""


def chat_topic(session_key: str) -> str:
    """A session's durable events and reply deltas (WatchChat, Chat, WaitRun)."""
    return f"chat:{session_key}"


def control_topic(replica_id: str) -> str:
    """Requests to one replica about the runs it executes (`RunCommand`)."""
    return f"control:{replica_id}"


WriteWithEvents = Callable[[WriteTx, list[Event]], T]
"""A write function that appends the events it records to the list it is given."""


class Committer:
    """Runs a write that records events, and publishes those events once committed."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus

    async def commit(self, fn: WriteWithEvents[T]) -> T:
        # The list is made per attempt: a store may retry.
        def write(tx: WriteTx) -> tuple[T, list[Event]]:
            events: list[Event] = []
            return fn(tx, events), events

        # As functools.wraps would (without copying names on every write): a store that
        # learns about its write functions sees `fn`, not this wrapper.
        write.__wrapped__ = fn  # type: ignore[attr-defined]
        result, events = await self.store.write(write)
        await self.publish(events)
        return result

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            await self.bus.publish(chat_topic(event.session_key), event)
            await self.bus.publish(FEED_TOPIC, event)


def record(
    tx: WriteTx,
    events: list[Event],
    session: Session,
    ts: int,
    body: EventBody,
    *,
    run_id: str = "",
    reason: SessionEventReason | None = None,
) -> Event:
    """Appends a durable event of `session`; with a `reason` it is also a session change
    (a WatchSessions entry) carrying the session as it is now."""
    event = tx.append_event(
        session.key,
        ts,
        body,
        run_id=run_id,
        reason=reason,
        session=session if reason is not None else None,
    )
    events.append(event)
    return event


def session_changed(
    tx: WriteTx,
    events: list[Event],
    session: Session,
    reason: SessionEventReason,
    ts: int,
    *,
    run_id: str = "",
) -> Event:
    """Appends the durable `session_changed` event (also the WatchSessions entry)."""
    return record(tx, events, session, ts, SessionChanged(), run_id=run_id, reason=reason)
