"""WatchChat and Chat streams: replay by cursor, the reply in flight, then live events.

Order of work per stream: subscribe to the session's live topic, replay durable events
after the cursor from the store, send the in-flight reply as one delta at offset 0, then
forward live messages (`CursorFollower` keeps the durable ones exact). Deltas overlapping
text already sent are trimmed by offset, and deltas of a run whose end was delivered are
dropped. A delta past the text sent (a run executing on another replica, whose reply so
far this stream has not had, or a delta the bus lost) is not sent: the stream asks for
the reply so far instead, which comes back as one delta from offset 0.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sessiond.bus.base import Subscription, SubscriptionClosed, SubscriptionOverflow
from sessiond.core.committer import Committer, chat_topic, control_topic
from sessiond.core.rules import SessionRules
from sessiond.core.runs.ownership import RunOwnership, SoleOwner
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.streams.follower import (
    CursorFollower,
    OnLive,
    retained_from,
    session_cursor,
)
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import (
    InvalidArgument,
    ResourceExhausted,
    SessionNotFound,
    Unavailable,
)
from sessiond.domain.events import (
    Event,
    LiveDelta,
    RunCommand,
    RunCommandAction,
    SessionChanged,
)
from sessiond.domain.models import Run
from sessiond.store.base import ReadTx


@dataclass(frozen=True, slots=True)
class Heartbeat:
    session_key: str
    ts: int


FeedItem = Event | LiveDelta | Heartbeat


@dataclass
class _Stream:
    """What one stream has sent: the text of each run's reply, which runs ended."""

    follower: CursorFollower
    run_id: str = ""
    """When set, only this run's events; the stream ends with its terminal event."""
    sent_upto: dict[tuple[str, bool], int] = field(default_factory=dict)
    ended_runs: set[str] = field(default_factory=set)
    finished: bool = False
    asked: set[str] = field(default_factory=set)
    """Runs whose reply so far this stream asked for (once each)."""

    def accepts(self, event: Event) -> bool:
        """Notes a durable event; True when the stream sends it."""
        if event.ends_run:
            self.ended_runs.add(event.run_id)
            if event.run_id == self.run_id:
                self.finished = True
        if not self.run_id:
            return True
        return event.run_id == self.run_id and not isinstance(event.body, SessionChanged)

    def trim(self, delta: LiveDelta) -> LiveDelta | None:
        """The part of `delta` not yet sent, or None."""
        if delta.run_id in self.ended_runs or (self.run_id and delta.run_id != self.run_id):
            return None
        sent = self.sent_upto.get((delta.run_id, delta.thinking), 0)
        end = delta.offset + len(delta.text)
        if end <= sent or (delta.offset > sent and not delta.thinking):
            return None
        self.sent_upto[(delta.run_id, delta.thinking)] = end
        if delta.offset >= sent:
            return delta
        cut = sent - delta.offset
        return LiveDelta(
            delta.session_key, delta.run_id, delta.text[cut:], sent, delta.ts, delta.thinking
        )


class ChatStreams:
    def __init__(
        self,
        committer: Committer,
        rules: SessionRules,
        registry: RunRegistry,
        heartbeat_s: float = 15.0,
        max_pending: int = 1024,
        *,
        ownership: RunOwnership | None = None,
    ) -> None:
        self.committer = committer
        self.rules = rules
        self.registry = registry
        self.ownership: RunOwnership = ownership or SoleOwner()
        self.heartbeat_s = heartbeat_s
        self.max_pending = max_pending

    async def subscribe(self, caller: Caller, raw_key: str) -> Subscription:
        """Opens a live subscription before a Send, so `follow_run` misses nothing: ready,
        so events of the run reach it even if another replica ends up executing it."""
        key = self.rules.stored_key(caller, raw_key, "session_key")
        subscription = self._subscribe(key)
        try:
            await subscription.ready()
        except BaseException:
            subscription.close()
            raise
        return subscription

    def _subscribe(self, key: str) -> Subscription:
        return self.committer.bus.subscribe(chat_topic(key), self.max_pending)

    def _stream(
        self,
        key: str,
        subscription: Subscription,
        after: int,
        *,
        from_oldest: bool = False,
        run_id: str = "",
    ) -> _Stream:
        async def read_after(position: int, limit: int) -> tuple[int, list[Event]]:
            return await self.committer.store.read(
                lambda tx: _stored_after(tx, key, position, limit)
            )

        follower = CursorFollower(
            subscription, read_after, session_cursor, after, from_oldest=from_oldest
        )
        return _Stream(follower, run_id=run_id)

    async def watch(
        self,
        caller: Caller,
        raw_key: str,
        start: int,
        *,
        from_oldest: bool = False,
        on_live: OnLive | None = None,
    ) -> AsyncIterator[FeedItem]:
        """Replay after `start` (resolved by `start_cursor`; `from_oldest` when the client
        asked for everything retained), the reply in flight, then live events. What was
        committed after `start` was read is in the replay: the subscription opens first."""
        key = self.rules.stored_key(caller, raw_key, "session_key")
        stream = self._stream(key, self._subscribe(key), start, from_oldest=from_oldest)
        try:
            async for item in self._replay_then_live(key, stream, on_live):
                yield item
        finally:
            stream.follower.close()

    async def follow_run(
        self, key: str, run: Run, subscription: Subscription, *, fresh: bool
    ) -> AsyncIterator[FeedItem]:
        """One run's events until it ends, on a subscription opened before it was sent.

        A fresh run's every event, deltas included, is in the subscription in the order
        produced (text flushed before a tool START stays before it). Re-attaching to an
        older run replays from the store first.
        """
        stream = self._stream(key, subscription, run.first_cursor - 1, run_id=run.run_id)
        try:
            items = self._live(key, stream) if fresh else self._replay_then_live(key, stream)
            async for item in items:
                yield item
                if stream.finished:
                    return
        finally:
            stream.follower.close()

    async def _replay_then_live(
        self, key: str, stream: _Stream, on_live: OnLive | None = None
    ) -> AsyncIterator[FeedItem]:
        async for event in stream.follower.replay():
            if stream.accepts(event):
                yield event
                if stream.finished:
                    return
        snapshot = self._in_flight(key, stream)
        if snapshot is not None:
            yield snapshot
        elif self.ownership.shared:
            await self._ask_for_reply(key, stream, "")
        if on_live is not None:
            await on_live()
        async for item in self._live(key, stream):
            yield item
            if stream.finished:
                return

    async def start_cursor(
        self, caller: Caller, raw_key: str, after_cursor: int, start_at_end: bool
    ) -> int:
        """The cursor a watch replays after: the head with `start_at_end`, just before the
        oldest retained event for 0. Expiry is checked by the replay's own read."""
        key = self.rules.stored_key(caller, raw_key, "session_key")
        if after_cursor < 0:
            raise InvalidArgument("after_cursor", "after_cursor must not be negative")

        def read(tx: ReadTx) -> tuple[bool, int, int]:
            return tx.get_session(key) is not None, tx.oldest_cursor(key), tx.head_cursor(key)

        exists, oldest, head = await self.committer.store.read(read)
        if not exists and head == 0:
            raise SessionNotFound(key)
        if start_at_end:
            return head
        if after_cursor:
            return after_cursor
        return oldest - 1 if oldest > 1 and head >= oldest else 0

    def _in_flight(self, key: str, stream: _Stream) -> LiveDelta | None:
        active = self.registry.for_session(key)
        if active is None or active.run_id in stream.ended_runs:
            return None
        if stream.run_id and active.run_id != stream.run_id:
            return None
        text = active.shaper.visible
        if not text:
            return None
        stream.sent_upto[(active.run_id, False)] = len(text)
        return LiveDelta(key, active.run_id, text, 0, now_ms())

    async def _live(self, key: str, stream: _Stream) -> AsyncIterator[FeedItem]:
        follower = stream.follower
        try:
            async for message in follower.live(self.heartbeat_s):
                if message is None:
                    yield Heartbeat(key, now_ms())
                elif isinstance(message, LiveDelta):
                    trimmed = stream.trim(message)
                    if trimmed is not None:
                        yield trimmed
                    elif self._behind(stream, message):
                        await self._ask_for_reply(key, stream, message.run_id)
                elif isinstance(message, Event) and stream.accepts(message):
                    yield message
                    if stream.finished:
                        return
        except SubscriptionClosed:
            raise Unavailable("server shutting down; reconnect with after_cursor") from None
        except SubscriptionOverflow:
            raise ResourceExhausted(
                f"this stream fell too far behind; reconnect with after_cursor={follower.last}",
                metadata={"after_cursor": str(follower.last)},
            ) from None

    @staticmethod
    def _behind(stream: _Stream, delta: LiveDelta) -> bool:
        """A delta past the text this stream sent of its run (not yet asked about)."""
        sent = stream.sent_upto.get((delta.run_id, delta.thinking), 0)
        return delta.offset > sent and delta.run_id not in stream.asked

    async def _ask_for_reply(self, key: str, stream: _Stream, run_id: str) -> None:
        """Asks the replica executing the session's run (`run_id`, or the active one) for
        the reply so far; it arrives on the stream's subscription as a delta at 0."""
        ownership = self.ownership

        def read(tx: ReadTx) -> tuple[str, str]:
            active = run_id
            if not active:
                session = tx.get_session(key)
                active = session.active_run_id if session else ""
            return active, ownership.holder(tx, active) if active else ""

        active, holder = await self.committer.store.read(read)
        if not active or active in stream.asked or active in stream.ended_runs:
            return
        stream.asked.add(active)
        if holder:
            command = RunCommand(active, RunCommandAction.SNAPSHOT)
            await self.committer.bus.publish(control_topic(holder), command)


def _stored_after(tx: ReadTx, key: str, after: int, limit: int) -> tuple[int, list[Event]]:
    """The session's first retained cursor, and a batch of its events after `after`."""
    retained = retained_from(tx.oldest_cursor(key), tx.head_cursor(key))
    return retained, tx.events_after(key, after, limit)
