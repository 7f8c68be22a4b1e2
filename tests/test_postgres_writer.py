"""The writer of store/postgres keeps the Store contract's group commit: a function that
raises (or goes on after a database error) is rolled back alone, a failed commit is
UNAVAILABLE for its whole group, a group retried after a serialization failure or a lost
connection commits once, a replica whose connections died (a database restart) works
again, and a writers' lock held elsewhere is waited for, then UNAVAILABLE."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from helpers import assert_eventually
from postgres_records import KEYS, append, create_sessions, opened, texts
from psycopg import errors
from sessiond.domain.errors import InvalidArgument, Unavailable
from sessiond.domain.models import Run, RunStatus
from sessiond.store.base import WriteTx
from sessiond.store.postgres import PostgresStore
from sessiond.store.postgres.write_tx import PostgresWriteTx


@pytest.fixture
async def store(postgres_url: str) -> AsyncIterator[PostgresStore]:
    opened_store = await opened(postgres_url)
    await opened_store.write(create_sessions)
    try:
        yield opened_store
    finally:
        await opened_store.close()


def _asserted(condition: bool) -> None:
    assert condition


async def _one_group(store: PostgresStore, writes: list[Callable[[WriteTx], Any]]) -> list[Any]:
    """Runs `writes` as one group commit (results, or the exceptions raised): the writer
    is held by a write that returns once all of them are queued behind it."""
    started, release = threading.Event(), threading.Event()

    def hold(tx: WriteTx) -> bool:
        started.set()
        return release.wait(10)

    holding = asyncio.ensure_future(store.write(hold))
    await assert_eventually(lambda: _asserted(started.is_set()))
    queued = [asyncio.ensure_future(store.write(fn)) for fn in writes]

    def all_queued() -> None:
        assert store._jobs.qsize() == len(writes)

    await assert_eventually(all_queued)
    release.set()
    assert await holding is True
    return await asyncio.gather(*queued, return_exceptions=True)


async def test_a_function_that_raises_is_rolled_back_alone(store: PostgresStore) -> None:
    def raises(tx: WriteTx) -> None:
        append(KEYS[0], "dropped")(tx)
        raise InvalidArgument("text", "no")

    results = await _one_group(store, [append(KEYS[0], "a"), raises, append(KEYS[0], "b")])
    assert results[0] == (1, 1)
    assert isinstance(results[1], InvalidArgument)
    assert results[2] == (2, 2), "the rolled back function took no cursor"
    assert await texts(store) == ["a", "b"]


async def test_a_function_that_goes_on_after_a_database_error_is_dropped_alone(
    store: PostgresStore,
) -> None:
    await store.write(lambda tx: tx.insert_run(Run("r1", KEYS[0], "s", RunStatus.QUEUED, 5)))

    def swallows_a_database_error(tx: WriteTx) -> str:
        append(KEYS[0], "dropped")(tx)
        # Caught, but the transaction is aborted all the same.
        with contextlib.suppress(errors.UniqueViolation):
            tx.insert_run(Run("r1", KEYS[0], "s", RunStatus.QUEUED, 5))
        return "went on"

    results = await _one_group(
        store, [append(KEYS[0], "a"), swallows_a_database_error, append(KEYS[0], "b")]
    )
    assert results[0] == (1, 1)
    assert isinstance(results[1], Unavailable)
    assert results[2] == (2, 2)
    assert await texts(store) == ["a", "b"]


def _breaks_commit(tx: WriteTx) -> None:
    # A deferred foreign-key violation passes every statement and fails the COMMIT (which
    # rolls back the table too).
    assert isinstance(tx, PostgresWriteTx)
    tx.conn.execute(
        "CREATE TABLE doomed (session_id TEXT REFERENCES transcripts (session_id)"
        " DEFERRABLE INITIALLY DEFERRED)"
    )
    tx.conn.execute("INSERT INTO doomed VALUES ('no-such-transcript')")


async def test_a_failed_commit_is_unavailable_for_its_whole_group(store: PostgresStore) -> None:
    results = await _one_group(store, [append(KEYS[0], "lost"), _breaks_commit])
    assert [type(r) for r in results] == [Unavailable, Unavailable]
    assert await texts(store) == []
    assert await store.write(append(KEYS[0], "kept")) == (1, 1)
    assert await texts(store) == ["kept"]


async def test_a_group_that_meets_a_serialization_failure_runs_again_and_commits_once(
    store: PostgresStore,
) -> None:
    runs: list[str] = []

    def fails_once(tx: WriteTx) -> str:
        runs.append("fails_once")
        if runs.count("fails_once") == 1:
            raise errors.SerializationFailure("could not serialize access")
        return "done"

    def counted(tx: WriteTx) -> tuple[int, int]:
        runs.append("counted")
        return append(KEYS[0], "once")(tx)

    assert await _one_group(store, [counted, fails_once]) == [(1, 1), "done"]
    assert runs == ["counted", "fails_once", "counted", "fails_once"]
    assert await texts(store) == ["once"]


async def test_a_group_whose_connection_dies_before_commit_runs_again(store: PostgresStore) -> None:
    runs: list[int] = []

    def loses_its_connection_once(tx: WriteTx) -> tuple[int, int]:
        assert isinstance(tx, PostgresWriteTx)
        runs.append(tx.conn.info.backend_pid)
        appended = append(KEYS[0], "once")(tx)
        if len(runs) == 1:
            tx.conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return appended

    assert await store.write(loses_its_connection_once) == (1, 1)
    assert len(runs) == 2
    assert runs[0] != runs[1], "run again on another connection"
    assert await texts(store) == ["once"]


def _end_every_other_connection(url: str) -> None:
    """What a database restart does to a replica's pool: every connection dies."""
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            admin.execute("SELECT pg_stat_clear_snapshot()")  # re-read, no sleep


async def test_a_replica_reads_and_writes_again_after_its_connections_died(
    store: PostgresStore, postgres_url: str
) -> None:
    await asyncio.to_thread(_end_every_other_connection, postgres_url)
    assert await store.session(KEYS[0]) is not None
    await asyncio.to_thread(_end_every_other_connection, postgres_url)
    assert await store.write(append(KEYS[0], "after")) == (1, 1)
    assert await texts(store) == ["after"]


async def test_a_writers_lock_held_elsewhere_waits_then_is_unavailable(
    postgres_url: str,
) -> None:
    store = await opened(postgres_url, lock_timeout_ms=300)
    try:
        await store.write(create_sessions)
        with psycopg.connect(postgres_url) as stuck:  # a replica stalled inside a write
            stuck.execute("SELECT 1 FROM event_feed_head FOR UPDATE")
            waiting = asyncio.ensure_future(store.write(append(KEYS[0], "late")))
            assert await store.session(KEYS[0]) is not None, "reads do not wait for writers"
            with pytest.raises(Unavailable):
                await waiting
        assert await store.write(append(KEYS[0], "after")) == (1, 1)
        assert await texts(store) == ["after"]
    finally:
        await store.close()


async def test_a_closed_store_is_unavailable(postgres_url: str) -> None:
    store = await opened(postgres_url)
    await store.close()
    with pytest.raises(Unavailable):
        await store.write(create_sessions)
    with pytest.raises(Unavailable):
        await store.read(lambda tx: tx.head_global_seq())
