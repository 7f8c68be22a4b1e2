"""WatchChat and Chat streams: replay by cursor, the reply in flight, then live events.

Order of work per stream: subscribe to the session's live topic, replay durable events
after the cursor from the store, send the in-flight reply as one delta at offset 0, then
forward live messages. Durable events already delivered are skipped by cursor; a gap is
filled from the store; deltas overlapping text already sent are trimmed by offset, and
deltas of a run whose end was delivered are dropped. A read from the store that finds
events after the stream's cursor pruned meanwhile ends it with `CURSOR_EXPIRED`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sessiond.bus.base import Subscription, SubscriptionClosed, SubscriptionOverflow
from sessiond.core.errors import (
    InvalidArgument,
    ResourceExhausted,
    SessionNotFound,
    Unavailable,
)
from sessiond.core.events import EventLog, chat_topic
from sessiond.core.feed import ensure_retained, retained_from
from sessiond.core.models import Event, EventKind, LiveDelta, Run, now_ms
from sessiond.core.registry import RunRegistry
from sessiond.core.rules import SessionRules
from sessiond.store.base import ReadTx

BATCH = 500
TERMINAL = frozenset({EventKind.FINAL, EventKind.ERROR, EventKind.ABORTED})


@dataclass(frozen=True, slots=True)
class Heartbeat:
    session_key: str
    ts: int


FeedItem = Event | LiveDelta | Heartbeat


@dataclass
class _StreamState:
    last_cursor: int
    run_id: str = ""
    """When set, only this run's events; the stream ends with its terminal event."""
    sent_upto: dict[tuple[str, bool], int] = field(default_factory=dict)
    ended_runs: set[str] = field(default_factory=set)
    finished: bool = False
    from_oldest: bool = False
    """The stream asked for everything retained (`after_cursor` 0) and has had no durable
    event yet: events pruned since its start was resolved are not owed to it."""

    def wants(self, event: Event) -> bool:
        if not self.run_id:
            return True
        return event.run_id == self.run_id and event.kind is not EventKind.SESSION_CHANGED

    def delivered(self, event: Event) -> None:
        self.last_cursor = event.cursor
        self.from_oldest = False
        if event.kind in TERMINAL and event.run_id:
            self.ended_runs.add(event.run_id)
            if event.run_id == self.run_id:
                self.finished = True

    def trim(self, delta: LiveDelta) -> LiveDelta | None:
        """The part of `delta` not yet sent, or None."""
        if delta.run_id in self.ended_runs or (self.run_id and delta.run_id != self.run_id):
            return None
        sent = self.sent_upto.get((delta.run_id, delta.thinking), 0)
        end = delta.offset + len(delta.text)
        if end <= sent:
            return None
        self.sent_upto[(delta.run_id, delta.thinking)] = end
        if delta.offset >= sent:
            return delta
        cut = sent - delta.offset
        return LiveDelta(
            delta.session_key, delta.run_id, delta.text[cut:], sent, delta.ts, delta.thinking
        )


class ChatFeed:
    def __init__(
        self,
        log: EventLog,
        rules: SessionRules,
        registry: RunRegistry,
        heartbeat_s: float = 15.0,
        max_pending: int = 1024,
    ) -> None:
        self.log = log
        self.rules = rules
        self.registry = registry
        self.heartbeat_s = heartbeat_s
        self.max_pending = max_pending

    def subscribe(self, raw_key: str) -> Subscription:
        """Opens a live subscription before a Send, so `follow_run` misses nothing."""
        key = self.rules.key(raw_key, "session_key")
        return self.log.bus.subscribe(chat_topic(key), self.max_pending)

    async def watch(
        self, raw_key: str, start: int, *, from_oldest: bool = False
    ) -> AsyncIterator[FeedItem]:
        """Replay after `start` (resolved by `start_cursor`; `from_oldest` when the client
        asked for everything retained), the reply in flight, then live events. What was
        committed after `start` was read is in the replay: the subscription opens first."""
        key = self.rules.key(raw_key, "session_key")
        subscription = self.subscribe(key)
        try:
            state = _StreamState(last_cursor=start, from_oldest=from_oldest)
            async for item in self._replay_then_live(key, state, subscription):
                yield item
        finally:
            subscription.close()

    async def follow_run(
        self, key: str, run: Run, subscription: Subscription, *, fresh: bool
    ) -> AsyncIterator[FeedItem]:
        """One run's events until it ends, on a subscription opened before it was sent.

        A fresh run's every event, deltas included, is in the subscription in the order
        produced (text flushed before a tool START stays before it). Re-attaching to an
        older run replays from the store first.
        """
        state = _StreamState(last_cursor=run.first_cursor - 1, run_id=run.run_id)
        try:
            items = (
                self._live(key, state, subscription)
                if fresh
                else self._replay_then_live(key, state, subscription)
            )
            async for item in items:
                yield item
                if state.finished:
                    return
        finally:
            subscription.close()

    async def _replay_then_live(
        self, key: str, state: _StreamState, subscription: Subscription
    ) -> AsyncIterator[FeedItem]:
        async for event in self._replay(key, state, until=0):
            yield event
        if state.finished:
            return
        snapshot = self._in_flight(key, state)
        if snapshot is not None:
            yield snapshot
        async for item in self._live(key, state, subscription):
            yield item
            if state.finished:
                return

    async def start_cursor(self, raw_key: str, after_cursor: int, start_at_end: bool) -> int:
        """The cursor a watch replays after: the head with `start_at_end`, just before the
        oldest retained event for 0. Expiry is checked by the replay's own read."""
        key = self.rules.key(raw_key, "session_key")
        if after_cursor < 0:
            raise InvalidArgument("after_cursor", "after_cursor must not be negative")

        def read(tx: ReadTx) -> tuple[bool, int, int]:
            return tx.get_session(key) is not None, tx.oldest_cursor(key), tx.head_cursor(key)

        exists, oldest, head = await self.log.store.read(read)
        if not exists and head == 0:
            raise SessionNotFound(key)
        if start_at_end:
            return head
        if after_cursor:
            return after_cursor
        return oldest - 1 if oldest > 1 and head >= oldest else 0

    async def _replay(self, key: str, state: _StreamState, until: int) -> AsyncIterator[Event]:
        """Stored events after the state's cursor (and before `until`, when given)."""
        while True:
            after = state.last_cursor
            retained, batch = await self.log.store.read(
                lambda tx, after=after: _stored_after(tx, key, after)  # type: ignore[misc]
            )
            if not state.from_oldest:
                ensure_retained(after, retained)
            for event in batch:
                if until and event.cursor >= until:
                    return
                state.delivered(event)
                if state.wants(event):
                    yield event
                    if state.finished:
                        return
            if len(batch) < BATCH:
                return

    def _in_flight(self, key: str, state: _StreamState) -> LiveDelta | None:
        active = self.registry.for_session(key)
        if active is None or active.run_id in state.ended_runs:
            return None
        if state.run_id and active.run_id != state.run_id:
            return None
        text = active.shaper.visible
        if not text:
            return None
        state.sent_upto[(active.run_id, False)] = len(text)
        return LiveDelta(key, active.run_id, text, 0, now_ms())

    async def _live(
        self, key: str, state: _StreamState, subscription: Subscription
    ) -> AsyncIterator[FeedItem]:
        while True:
            try:
                message = await subscription.get(self.heartbeat_s)
            except SubscriptionClosed:
                raise Unavailable("server shutting down; reconnect with after_cursor") from None
            except SubscriptionOverflow:
                raise ResourceExhausted(
                    "this stream fell too far behind; "
                    f"reconnect with after_cursor={state.last_cursor}",
                    metadata={"after_cursor": str(state.last_cursor)},
                ) from None
            if message is None:
                yield Heartbeat(key, now_ms())
            elif isinstance(message, LiveDelta):
                trimmed = state.trim(message)
                if trimmed is not None:
                    yield trimmed
            elif isinstance(message, Event):
                async for event in self._deliver(key, state, message):
                    yield event
                    if state.finished:
                        return

    async def _deliver(self, key: str, state: _StreamState, event: Event) -> AsyncIterator[Event]:
        if event.cursor <= state.last_cursor:
            return
        if event.cursor > state.last_cursor + 1:
            async for missed in self._replay(key, state, until=event.cursor):
                yield missed
            if state.finished:
                return
        state.delivered(event)
        if state.wants(event):
            yield event


def _stored_after(tx: ReadTx, key: str, after: int) -> tuple[int, list[Event]]:
    """The session's first retained cursor, and a batch of its events after `after`."""
    retained = retained_from(tx.oldest_cursor(key), tx.head_cursor(key))
    return retained, tx.events_after(key, after, BATCH)
