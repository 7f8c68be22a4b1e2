"""Where a write commits (store/sqlite/store.py): in a quiet store the short writes of a
loop turn's first writing task on the loop; the others, those of a busy store and every
write not known to be short on the writer thread; either way in the order they were made,
and never blocking the loop on a lock held by another process."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sessiond.domain.errors import Unavailable
from sessiond.domain.models import Message, Role, Session
from sessiond.store.base import WriteTx
from sessiond.store.sqlite.short_writes import write_kind
from sessiond.store.sqlite.store import BUSY_TIMEOUT_MS, SqliteStore
from sessiond.store.sqlite.write_tx import SqliteWriteTx


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "dispatch.db")
    await opened.open()
    await opened.write(lambda tx: tx.insert_session(_session()))
    # As if each had run before, quickly: the store has learned they are short.
    for fn in (_thread, _append(""), _slow):
        opened.short_writes.took(write_kind(fn), 0.0)
    try:
        yield opened
    finally:
        await opened.close()


def _session() -> Session:
    return Session(
        key="k", session_id="sid-k", agent_id="echo", created_at=1, updated_at=1, etag="e1"
    )


def _thread(tx: WriteTx) -> int:
    return threading.get_ident()


def _append(text: str) -> Callable[[WriteTx], int]:
    return lambda tx: tx.append_message(Message("sid-k", 0, Role.USER, text, 2)).seq


def _slow(tx: WriteTx) -> int:
    time.sleep(0.02)  # a long write: an archive, a cleanup
    return threading.get_ident()


def _unknown(tx: WriteTx) -> int:
    return threading.get_ident()


async def _busy_turns(store: SqliteStore, turns: int, writes: int = 3) -> None:
    for _ in range(turns):
        await asyncio.gather(*(store.write(_thread) for _ in range(writes)))


async def _texts(store: SqliteStore) -> list[str]:
    messages = await store.read(lambda tx: tx.list_messages("sid-k", after_seq=0, limit=100))
    return [m.text for m in messages]


async def test_a_lone_write_of_a_quiet_store_commits_on_the_loop(store: SqliteStore) -> None:
    loop_thread = threading.get_ident()
    # One task's writes in a row, none yielding to the loop, all on it.
    assert [await store.write(_thread) for _ in range(3)] == [loop_thread] * 3
    assert await store.write(_append("one")) == 1
    assert await _texts(store) == ["one"]


async def test_a_write_not_known_to_be_short_commits_on_the_writer(store: SqliteStore) -> None:
    loop_thread = threading.get_ident()
    assert await store.write(_unknown) != loop_thread, "not seen before"
    assert await store.write(_unknown) == loop_thread, "seen once, and quick"
    assert await store.write(_thread) == loop_thread


async def test_a_write_that_took_long_moves_to_the_writer(store: SqliteStore) -> None:
    loop_thread = threading.get_ident()
    assert await store.write(_slow) == loop_thread, "learned as short"
    # Its run on the loop took 20 ms: from now on it runs on the writer thread.
    threads = [await store.write(_slow) for _ in range(3)]
    assert loop_thread not in threads
    assert await store.write(_thread) == loop_thread


async def test_the_writes_of_other_tasks_of_a_turn_commit_on_the_writer(
    store: SqliteStore,
) -> None:
    threads = await asyncio.gather(*(store.write(_thread) for _ in range(3)))
    assert threads[0] == threading.get_ident()
    assert threads[1] == threads[2] != threading.get_ident()
    seqs = await asyncio.gather(*(store.write(_append(t)) for t in ("a", "b", "c")))
    assert seqs == [1, 2, 3]
    assert await _texts(store) == ["a", "b", "c"]


async def test_a_busy_store_sends_lone_writes_to_the_writer_until_it_is_quiet(
    store: SqliteStore,
) -> None:
    loop_thread = threading.get_ident()
    await _busy_turns(store, 20)
    assert await store.write(_thread) != loop_thread
    # Quiet again: after a few lone writes the average falls and they commit on the loop.
    threads = [await store.write(_thread) for _ in range(40)]
    assert threads[-1] == loop_thread
    assert threads[0] != loop_thread


async def test_a_failed_commit_on_the_writer_thread_is_unavailable(store: SqliteStore) -> None:
    loop_thread = threading.get_ident()

    def breaks_commit(tx: WriteTx) -> None:
        assert threading.get_ident() != loop_thread
        assert isinstance(tx, SqliteWriteTx)
        tx.conn.execute("PRAGMA defer_foreign_keys = ON")
        tx.conn.execute(
            "INSERT INTO messages (session_id, seq, role, silent, created_at, data)"
            " VALUES ('no-such-transcript', 1, 'user', 0, 3, '{}')"
        )

    await _busy_turns(store, 20)
    with pytest.raises(Unavailable):
        await store.write(breaks_commit)
    assert await store.write(_append("kept")) == 1
    assert await _texts(store) == ["kept"]


async def _loop_turns(count: int) -> float:
    """Seconds the loop took for `count` turns."""
    started = time.monotonic()
    for _ in range(count):
        await asyncio.sleep(0)
    return time.monotonic() - started


async def _while_locked(path: Path, body: Callable[[], Awaitable[None]]) -> None:
    """Runs `body` while another connection (as another process would) holds the
    database's write lock."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        try:
            await body()
        finally:
            other.execute("ROLLBACK")
    finally:
        other.close()


async def test_a_write_lock_held_elsewhere_leaves_the_loop_free_and_the_order_kept(
    store: SqliteStore, tmp_path: Path
) -> None:
    loop_thread = threading.get_ident()
    writes: list[asyncio.Task[int]] = []

    async def while_locked() -> None:
        writes.append(asyncio.ensure_future(store.write(_append("first"))))
        # The lone write cannot begin at once: it goes to the writer, which waits for the
        # lock; the loop goes on (it would stall for the whole busy timeout otherwise).
        assert await _loop_turns(3) < BUSY_TIMEOUT_MS / 1000 / 2
        assert not writes[0].done()
        # A later lone write must not overtake it by committing on the loop.
        writes.append(asyncio.ensure_future(store.write(_append("second"))))
        await _loop_turns(3)
        assert not writes[1].done()

    await _while_locked(tmp_path / "dispatch.db", while_locked)
    assert await asyncio.gather(*writes) == [1, 2]
    assert await _texts(store) == ["first", "second"]
    assert await store.write(_thread) == loop_thread


async def test_a_write_after_close_is_unavailable(tmp_path: Path) -> None:
    closing = SqliteStore(tmp_path / "closing.db")
    await closing.open()
    pending = asyncio.ensure_future(closing.write(_thread))
    await asyncio.sleep(0)  # the write joins this turn's writes
    await closing.close()
    assert isinstance(await pending, int), "a write of the closing turn still commits"
    with pytest.raises(Unavailable):
        await closing.write(_thread)
