"""Event-log pruning racing a stream's reads from the store (real SQLite, in process).

A watch resolves its start cursor when it opens, reads the store to replay, and reads it
again to fill a gap in the live feed. Events pruned between those reads must end the
stream with CURSOR_EXPIRED, never be skipped in silence; a watch of everything retained
(cursor 0) is owed only what is still retained when it first reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import NoRuns
from sessiond.bus.memory import MemoryBus
from sessiond.config import Config
from sessiond.core.committer import Committer
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.sessions.manager import NewSession, SessionManager
from sessiond.core.streams.chat import ChatStreams
from sessiond.core.streams.sessions import SessionFeed
from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import CursorExpired
from sessiond.domain.events import Event
from sessiond.store.sqlite.store import SqliteStore
from sessiond.wiring import agent_directory, session_rules

KEY = "agent:main:pruned"

ANYONE = Caller()
"""The default tenant, without auth."""


@dataclass
class Core:
    committer: Committer
    feed: ChatStreams
    session_feed: SessionFeed
    sessions: SessionManager
    unpublished: SessionManager
    """Commits to the same store but publishes on a bus nobody follows: events a live
    stream can only learn of by a gap in what it is sent."""

    async def change(self, times: int = 1, *, published: bool = True) -> None:
        manager = self.sessions if published else self.unpublished
        for n in range(times):
            await manager.update(ANYONE, KEY, {"label": f"label {n} {published}"})

    async def prune_all(self) -> None:
        pruned = await self.committer.store.write(lambda tx: tx.prune_events(now_ms() + 1))
        assert pruned > 0

    async def head(self) -> int:
        return await self.committer.store.read(lambda tx: tx.head_cursor(KEY))


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    store = SqliteStore(tmp_path / "pruned.db")
    await store.open()
    config = Config(db_path=tmp_path / "pruned.db")
    rules = session_rules(config, agent_directory(config))
    committer = Committer(store, MemoryBus())
    sessions = SessionManager(committer, rules, NoRuns())
    await sessions.create(ANYONE, NewSession(key="pruned"))
    feed = ChatStreams(committer, rules, RunRegistry(), heartbeat_s=30)
    unpublished = SessionManager(Committer(store, MemoryBus()), rules, NoRuns())
    try:
        yield Core(committer, feed, SessionFeed(committer, rules), sessions, unpublished)
    finally:
        await store.close()


async def _expired(items: AsyncIterator[object]) -> CursorExpired:
    with pytest.raises(CursorExpired) as raised:
        await anext(items)
    return raised.value


async def test_a_cursor_pruned_between_its_start_and_the_replay_is_expired(core: Core) -> None:
    await core.change(2)  # cursors 1 (created), 2, 3
    start = await core.feed.start_cursor(ANYONE, KEY, 1, start_at_end=False)
    assert start == 1
    await core.prune_all()

    error = await _expired(core.feed.watch(ANYONE, KEY, start))
    assert error.metadata == {"oldest_cursor": "4"}  # nothing retained: the next is 4


async def test_a_watch_of_everything_retained_starts_at_what_is_left(core: Core) -> None:
    await core.change(2)
    start = await core.feed.start_cursor(ANYONE, KEY, 0, start_at_end=False)
    await core.prune_all()
    await core.change()

    items = core.feed.watch(ANYONE, KEY, start, from_oldest=True)
    first = await anext(items)
    assert isinstance(first, Event)
    assert first.cursor == 4
    await items.aclose()


async def test_events_pruned_before_a_gap_in_the_live_feed_is_filled_are_expired(
    core: Core,
) -> None:
    await core.change(2)
    items = core.feed.watch(ANYONE, KEY, 2)  # subscribed, then replays cursor 3
    replayed = await anext(items)
    assert isinstance(replayed, Event)
    assert replayed.cursor == 3
    await core.change(2, published=False)  # 4, 5: stored, never sent live
    await core.prune_all()
    await core.change()  # 6, sent live: the stream must fill 4 and 5 from the store
    assert await core.head() == 6

    error = await _expired(items)
    assert error.metadata == {"oldest_cursor": "6"}


async def test_watch_sessions_fills_no_gap_with_nothing(core: Core) -> None:
    await core.change(2)  # global positions 1-3
    events = core.session_feed.watch(
        ANYONE, after_cursor=2, start_at_end=False, agent_id="", keys=[]
    )
    replayed = await anext(events)
    assert replayed.global_seq == 3
    await core.change(2, published=False)
    await core.prune_all()
    await core.change()

    error = await _expired(events)
    assert error.metadata == {"oldest_cursor": "6"}


async def test_watch_sessions_from_zero_skips_what_was_pruned_before_it_read(
    core: Core,
) -> None:
    await core.change(2)
    await core.prune_all()
    await core.change()
    events = core.session_feed.watch(
        ANYONE, after_cursor=0, start_at_end=False, agent_id="", keys=[]
    )
    first = await anext(events)
    assert first.global_seq == 4
    await events.aclose()  # type: ignore[attr-defined]
