"""The SQLite writer's memory of what it wrote (store/sqlite/cache.py) never outlives a
rollback: a write function that raises, or a group whose commit fails, leaves the
writer seeing exactly what the file holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from helpers import assert_eventually
from sessiond.domain.errors import InvalidArgument, Unavailable
from sessiond.domain.events import SessionChanged
from sessiond.domain.models import Message, Role, Run, RunStatus, Session
from sessiond.store.base import WriteTx
from sessiond.store.sqlite.store import SqliteStore
from sessiond.store.sqlite.write_tx import SqliteWriteTx


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "writer.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


def _session(key: str = "k") -> Session:
    return Session(
        key=key, session_id=f"sid-{key}", agent_id="echo", created_at=1, updated_at=1, etag="e1"
    )


def _run(run_id: str = "r1") -> Run:
    return Run(run_id, "k", "sid-k", RunStatus.RUNNING, created_at=2)


def _change_session(tx: WriteTx, display_name: str) -> None:
    """Renames session "k" and appends a message to it."""
    current = tx.get_session("k")
    assert current is not None
    tx.update_session(replace(current, display_name=display_name, etag="e2"))
    tx.append_message(Message(current.session_id, 0, Role.USER, "hi", 2))


def _fail_the_commit(tx: WriteTx) -> None:
    # A deferred foreign-key violation passes every statement and fails the COMMIT.
    assert isinstance(tx, SqliteWriteTx)
    tx.conn.execute("PRAGMA defer_foreign_keys = ON")
    tx.conn.execute(
        "INSERT INTO messages (session_id, seq, role, silent, created_at, data)"
        " VALUES ('no-such-transcript', 1, 'user', 0, 3, '{}')"
    )


async def _both_views(store: SqliteStore, key: str = "k") -> tuple[Session | None, Session | None]:
    """The session as the writer sees it, and as a reader of the file does."""
    written = await store.write(lambda tx: tx.get_session(key))
    stored = await store.read(lambda tx: tx.get_session(key))
    return written, stored


async def test_the_writer_sees_its_own_writes_within_and_after_a_function(
    store: SqliteStore,
) -> None:
    def write(tx: WriteTx) -> tuple[int, int]:
        tx.insert_session(_session())
        message = tx.append_message(Message("sid-k", 0, Role.USER, "hi", 2))
        within = tx.get_session("k")
        assert within is not None
        return message.seq, within.message_count

    assert await store.write(write) == (1, 1)
    written, stored = await _both_views(store)
    assert written == stored
    assert written is not None
    assert written.message_count == 1


async def test_a_function_that_raises_leaves_no_trace_in_the_writer(store: SqliteStore) -> None:
    await store.write(lambda tx: tx.insert_session(_session()))
    await store.write(lambda tx: tx.insert_run(_run()))

    def fail(tx: WriteTx) -> None:
        _change_session(tx, "changed")
        tx.update_run(replace(_run(), status=RunStatus.DONE))
        tx.insert_run(_run("r2"))
        changed = tx.get_session("k")
        assert changed is not None
        assert changed.message_count == 1
        tx.delete_session("k")
        raise InvalidArgument("text", "rejected after writing")

    with pytest.raises(InvalidArgument):
        await store.write(fail)
    written, stored = await _both_views(store)
    assert written == stored == _session()
    runs = await store.write(lambda tx: (tx.get_run("r1"), tx.get_run("r2")))
    assert runs == (_run(), None)


async def test_a_failed_commit_forgets_the_whole_group(store: SqliteStore) -> None:
    await store.write(lambda tx: tx.insert_session(_session()))

    def breaks_commit(tx: WriteTx) -> None:
        _change_session(tx, "never committed")
        _fail_the_commit(tx)

    with pytest.raises(Unavailable):
        await store.write(breaks_commit)
    written, stored = await _both_views(store)
    assert written == stored == _session()
    # The writer goes on: the next write lands on the committed state.
    seq = await store.write(
        lambda tx: tx.append_message(Message("sid-k", 0, Role.USER, "again", 4)).seq
    )
    assert seq == 1


async def test_a_session_written_elsewhere_in_the_group_is_seen_by_the_next_function(
    store: SqliteStore,
) -> None:
    """Functions of one group run one after another on one connection; the second
    sees the first's session, message count included."""

    def first(tx: WriteTx) -> None:
        tx.insert_session(_session())
        tx.append_message(Message("sid-k", 0, Role.USER, "one", 2))

    def second(tx: WriteTx) -> int:
        session = tx.get_session("k")
        assert session is not None
        return session.message_count

    _, count = await asyncio.gather(store.write(first), store.write(second))
    assert count == 1


async def test_wal_checkpoints_run_beside_the_writer(store: SqliteStore) -> None:
    """The writer leaves checkpoints to the checkpointer thread, which copies the WAL into
    the database once enough groups have committed."""
    from sessiond.store.sqlite.checkpointer import COMMITS_PER_CHECKPOINT

    checkpointer = store._checkpointer
    await store.write(lambda tx: tx.insert_session(_session()))
    for n in range(COMMITS_PER_CHECKPOINT):
        await store.write(
            lambda tx, n=n: tx.append_message(Message("sid-k", 0, Role.USER, f"m{n}", 2))
        )

    def checkpointed() -> None:
        assert checkpointer.checkpoints > 0, "no checkpoint after a full batch of commits"

    await assert_eventually(checkpointed, timeout=10)
    written, stored = await _both_views(store)
    assert stored == written
    assert stored is not None
    assert stored.message_count == COMMITS_PER_CHECKPOINT


async def test_event_cursors_and_seqs_go_on_from_what_was_committed(store: SqliteStore) -> None:
    """The writer moves a session's event cursor and a transcript's length from what it
    remembers; a rollback or a failed commit must not leave it counting from lost rows."""
    await store.write(lambda tx: tx.insert_session(_session()))

    def events(tx: WriteTx, count: int) -> list[int]:
        return [tx.append_event("k", 5, SessionChanged()).cursor for _ in range(count)]

    def fail(tx: WriteTx) -> None:
        events(tx, 3)
        tx.append_message(Message("sid-k", 0, Role.USER, "lost", 2))
        raise InvalidArgument("text", "rejected after writing")

    def breaks_commit(tx: WriteTx) -> None:
        events(tx, 2)
        tx.append_message(Message("sid-k", 0, Role.USER, "lost too", 2))
        _fail_the_commit(tx)

    def more(tx: WriteTx) -> tuple[int, int, int]:
        event = tx.append_event("k", 6, SessionChanged())
        message = tx.append_message(Message("sid-k", 0, Role.USER, "kept", 4))
        return event.cursor, message.seq, event.global_seq

    assert await store.write(lambda tx: events(tx, 2)) == [1, 2]
    with pytest.raises(InvalidArgument):
        await store.write(fail)
    with pytest.raises(Unavailable):
        await store.write(breaks_commit)
    cursor, seq, global_seq = await store.write(more)
    assert (cursor, seq) == (3, 1)
    stored = await store.read(lambda tx: tx.events_after("k", 0, 10))
    assert [e.cursor for e in stored] == [1, 2, 3]
    assert stored[-1].global_seq == global_seq

    def bumped_elsewhere(tx: WriteTx) -> int:
        # A change the writer did not make through append_message: the check on the old
        # value fails and the length is read back instead.
        assert isinstance(tx, SqliteWriteTx)
        tx.conn.execute("UPDATE transcripts SET message_count = message_count + 5")
        return tx.append_message(Message("sid-k", 0, Role.USER, "after", 7)).seq

    assert await store.write(bumped_elsewhere) == 7
