"""Committing changes together with their cursor-log events, then publishing them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sessiond.bus.base import EventBus
from sessiond.core import codec
from sessiond.core.models import Event, EventKind, Session, SessionEventReason
from sessiond.store.base import Store, WriteTx

T = TypeVar("T")

FEED_TOPIC = "feed"
SESSION_CACHE = 4096


def chat_topic(session_key: str) -> str:
    return f"chat:{session_key}"


class EventLog:
    """Runs a write that appends events, and publishes those events once committed."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self._sessions: dict[str, tuple[int, Session]] = {}

    async def session(self, key: str) -> Session | None:
        """The session `key`, None when absent.

        With a store that counts its committed writes (`Store.generation`: the embedded
        SQLite, the only writer of its file), a session read while no write has committed
        since is answered from memory: a polled GetSession skips the reader thread and the
        query. Any commit, of any session, makes every remembered one stale.
        """
        generation = self.store.generation
        if generation is None:
            return await self.store.read(lambda tx: tx.get_session(key))
        hit = self._sessions.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        session = await self.store.read(lambda tx: tx.get_session(key))
        if session is not None:
            if len(self._sessions) >= SESSION_CACHE:
                self._sessions.clear()
            self._sessions[key] = (generation, session)
        return session

    async def commit(self, fn: Callable[[WriteTx, list[Event]], T], *, short: bool = False) -> T:
        """Runs the write, then publishes its events once it has committed (`short`: see
        `Store.write`)."""

        def run(tx: WriteTx) -> tuple[T, list[Event]]:
            events: list[Event] = []
            return fn(tx, events), events

        result, events = await self.store.write(run, short=short)
        await self.publish(events)
        return result

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            await self.bus.publish(chat_topic(event.session_key), event)
            await self.bus.publish(FEED_TOPIC, event)


def append_event(
    tx: WriteTx,
    events: list[Event],
    session: Session,
    kind: EventKind,
    ts: int,
    *,
    run_id: str = "",
    reason: SessionEventReason | None = None,
    body: dict[str, Any] | None = None,
) -> Event:
    """Appends a durable event; with a `reason` it is also a WatchSessions entry.

    The payload holds the event `body` and, for session changes, the session snapshot.
    """
    payload: dict[str, Any] = {"body": body or {}}
    if reason is not None:
        payload["session"] = codec.session_to_dict(session)
    event = tx.append_event(session.key, kind, ts, run_id=run_id, reason=reason, payload=payload)
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
    return append_event(
        tx, events, session, EventKind.SESSION_CHANGED, ts, run_id=run_id, reason=reason
    )
