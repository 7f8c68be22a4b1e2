"""What store/postgres owes several replicas sharing one database: two stores on one
database stand for two replicas. Cursors stay gap-free and in commit order under writes
from both, writes are serialisable across them, idempotency keys and labels are unique
across them, migrations by both at once apply once; and the group commit keeps the
Store contract (a function that raises is rolled back alone, a failed commit is
UNAVAILABLE for its whole group, a retried group commits once)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from helpers import assert_eventually
from psycopg import errors
from sessiond.domain.errors import InvalidArgument, LabelInUse, Unavailable
from sessiond.domain.events import RunStarted
from sessiond.domain.models import Message, Role, Run, RunLease, RunStatus, Session
from sessiond.store.base import WriteTx
from sessiond.store.postgres import PostgresStore
from sessiond.store.postgres.write_tx import PostgresWriteTx

KEYS = ("agent:main:a", "agent:main:b", "agent:main:c")


async def _opened(url: str, **options: Any) -> PostgresStore:
    store = PostgresStore(url, readers=2, **options)
    await store.open()
    return store


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first = await _opened(postgres_url)
    second = await _opened(postgres_url)
    await first.write(_create_sessions)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


def _session(key: str, label: str = "") -> Session:
    return Session(
        key=key, session_id=f"sid-{key}", agent_id="main", created_at=1, updated_at=1,
        etag="e1", label=label,
    )  # fmt: skip


def _create_sessions(tx: WriteTx) -> None:
    for key in KEYS:
        tx.insert_session(_session(key))


def _append(key: str, text: str = "x") -> Callable[[WriteTx], tuple[int, int]]:
    """Appends a message and an event to `key`; returns (cursor, global position)."""

    def write(tx: WriteTx) -> tuple[int, int]:
        message = tx.append_message(Message(f"sid-{key}", 0, Role.USER, text, 2))
        event = tx.append_event(key, 3, RunStarted(message.seq, f"sid-{key}"))
        return event.cursor, event.global_seq

    return write


async def _texts(store: PostgresStore, key: str = KEYS[0]) -> list[str]:
    messages = await store.read(lambda tx: tx.list_messages(f"sid-{key}", limit=1000))
    return [m.text for m in messages]


class FeedWatcher:
    """Reads the global feed and each key's log as they grow, failing on any gap: a
    position visible before the one below it (a commit out of order) shows as one."""

    def __init__(self, store: PostgresStore) -> None:
        self.store = store
        self.global_seq = 0
        self.cursors = dict.fromkeys(KEYS, 0)
        self.reads = 0

    async def read_once(self) -> None:
        after = self.global_seq
        events = await self.store.read(lambda tx: tx.feed_after(after, 500))
        self.reads += 1
        for event in events:
            assert event.global_seq == self.global_seq + 1, "a gap in the global feed"
            assert event.cursor == self.cursors[event.session_key] + 1, "a gap in a key's log"
            self.global_seq = event.global_seq
            self.cursors[event.session_key] = event.cursor

    async def follow(self, writing: asyncio.Future[Any]) -> None:
        while not writing.done():
            await self.read_once()
        await self.read_once()


async def test_cursors_stay_gap_free_and_in_commit_order_under_two_replicas(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas

    async def writer(store: PostgresStore, index: int) -> list[tuple[int, int]]:
        return [await store.write(_append(KEYS[(index + n) % 3])) for n in range(40)]

    writing = asyncio.gather(*(writer(s, i) for s in replicas for i in range(4)))
    watcher = FeedWatcher(second)
    await watcher.follow(writing)
    positions = [p for results in writing.result() for p in results]

    assert watcher.reads > 1, "the feed was read while it grew"
    assert watcher.global_seq == len(positions) == 320
    assert sorted(g for _, g in positions) == list(range(1, 321))
    heads = await first.read(lambda tx: [tx.head_cursor(k) for k in KEYS])
    assert heads == [watcher.cursors[k] for k in KEYS]
    assert sum(heads) == 320
    for key in KEYS:
        cursors = await second.read(
            lambda tx, k=key: [e.cursor for e in tx.events_after(k, 0, 500)]
        )
        assert cursors == list(range(1, len(cursors) + 1))
        assert await first.read(lambda tx, k=key: tx.last_seq(f"sid-{k}")) == len(cursors)


async def test_read_modify_writes_from_two_replicas_lose_no_update(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    def increment(tx: WriteTx) -> None:
        session = tx.get_session(KEYS[0])
        assert session is not None
        count = int(session.metadata.get("count", "0"))
        tx.update_session(replace(session, metadata={"count": str(count + 1)}))

    await asyncio.gather(*(store.write(increment) for store in replicas for _ in range(60)))
    stored = await replicas[1].session(KEYS[0])
    assert stored is not None
    assert stored.metadata == {"count": "120"}


def _send(key: str, idempotency_key: str, run_id: str) -> Callable[[WriteTx], str]:
    """Admission as the core does it: the run of the idempotency key, else a new one."""

    def write(tx: WriteTx) -> str:
        existing = tx.find_run_by_idempotency(key, "", idempotency_key)
        if existing is not None:
            return existing.run_id
        run = Run(run_id, key, f"sid-{key}", RunStatus.QUEUED, 5, idempotency_key)
        tx.insert_run(run)
        return run_id

    return write


async def test_an_idempotency_key_names_one_run_across_replicas(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    sends = [
        store.write(_send(KEYS[0], "same-key", f"run-{n}-{index}"))
        for n in range(10)
        for index, store in enumerate(replicas)
    ]
    run_ids = set(await asyncio.gather(*sends))
    assert len(run_ids) == 1
    runs = await replicas[0].read(lambda tx: tx.list_runs(KEYS[0], None, 100, 0))
    assert [r.run_id for r in runs] == list(run_ids)


async def test_the_database_refuses_a_second_run_of_an_idempotency_key(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas
    await first.write(lambda tx: tx.insert_run(Run("r1", KEYS[0], "s", RunStatus.QUEUED, 5, "k")))
    with pytest.raises(errors.UniqueViolation):
        await second.write(
            lambda tx: tx.insert_run(Run("r2", KEYS[0], "s", RunStatus.QUEUED, 5, "k"))
        )
    assert await first.read(lambda tx: tx.get_run("r2")) is None


async def test_a_label_is_one_sessions_across_replicas(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas
    await first.write(lambda tx: tx.insert_session(_session("agent:main:x", label="Ops")))
    with pytest.raises(LabelInUse):
        await second.write(lambda tx: tx.insert_session(_session("agent:main:y", label="Ops")))
    taken = _session(KEYS[1], label="Ops")
    with pytest.raises(LabelInUse):
        await second.write(lambda tx: tx.update_session(taken))
    assert await first.session("agent:main:y") is None

    def relabel_or_keep(tx: WriteTx) -> str:
        # A function that handles the clash goes on with a usable transaction.
        try:
            tx.update_session(taken)
        except LabelInUse:
            tx.update_session(replace(taken, label="Ops (2)"))
            return "relabelled"
        return "taken"

    assert await second.write(relabel_or_keep) == "relabelled"
    relabelled = await first.session(KEYS[1])
    assert relabelled is not None
    assert relabelled.label == "Ops (2)"


async def test_a_lease_is_renewed_only_by_its_holder_under_its_epoch(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas
    await first.write(lambda tx: tx.put_lease(RunLease("r1", KEYS[0], "replica-a", 1, 100)))
    assert not await second.write(lambda tx: tx.renew_lease("r1", "replica-b", 1, 500))
    assert not await second.write(lambda tx: tx.renew_lease("r1", "replica-a", 2, 500))
    assert await first.write(lambda tx: tx.renew_lease("r1", "replica-a", 1, 200))
    assert await second.read(lambda tx: tx.expired_leases(150, 10)) == []
    # Taken over by the other replica: a new epoch, and the old holder's renewals fail.
    await second.write(lambda tx: tx.put_lease(RunLease("r1", KEYS[0], "replica-b", 2, 0)))
    assert not await first.write(lambda tx: tx.renew_lease("r1", "replica-a", 1, 300))
    assert await first.read(lambda tx: tx.expired_leases(150, 10)) == [
        RunLease("r1", KEYS[0], "replica-b", 2, 0)
    ]
    await second.write(lambda tx: tx.delete_lease("r1"))
    assert await first.read(lambda tx: tx.get_lease("r1")) is None


async def test_a_replica_reads_what_another_committed(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas
    assert await second.session(KEYS[2]) is not None
    await first.write(lambda tx: tx.delete_session(KEYS[2]))
    assert await second.session(KEYS[2]) is None


async def test_a_read_sees_one_snapshot(
    replicas: tuple[PostgresStore, PostgresStore], postgres_url: str
) -> None:
    first, _ = replicas
    await first.write(_append(KEYS[0]))

    def read_twice_around_a_commit(tx: Any) -> tuple[int, int]:
        before = tx.head_global_seq()
        # Another replica commits between the two SELECTs of this read.
        with psycopg.connect(postgres_url, autocommit=True) as other:
            other.execute("UPDATE event_feed_head SET last_global_seq = last_global_seq + 1")
        return before, tx.head_global_seq()

    assert await first.read(read_twice_around_a_commit) == (1, 1)
    assert await first.read(lambda tx: tx.head_global_seq()) == 2


async def test_replicas_starting_at_once_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(_opened(postgres_url) for _ in range(3)))
    try:
        await stores[0].write(_create_sessions)
        assert await stores[2].write(_append(KEYS[0])) == (1, 1)
    finally:
        for store in stores:
            await store.close()
    with psycopg.connect(postgres_url) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == ["0001_initial"]


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


async def test_a_function_that_raises_is_rolled_back_alone(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, _ = replicas

    def raises(tx: WriteTx) -> None:
        _append(KEYS[0], "dropped")(tx)
        raise InvalidArgument("text", "no")

    results = await _one_group(first, [_append(KEYS[0], "a"), raises, _append(KEYS[0], "b")])
    assert results[0] == (1, 1)
    assert isinstance(results[1], InvalidArgument)
    assert results[2] == (2, 2), "the rolled back function took no cursor"
    assert await _texts(first) == ["a", "b"]


async def test_a_function_that_goes_on_after_a_database_error_is_dropped_alone(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, _ = replicas
    await first.write(lambda tx: tx.insert_run(Run("r1", KEYS[0], "s", RunStatus.QUEUED, 5)))

    def swallows_a_database_error(tx: WriteTx) -> str:
        _append(KEYS[0], "dropped")(tx)
        # Caught, but the transaction is aborted all the same.
        with contextlib.suppress(errors.UniqueViolation):
            tx.insert_run(Run("r1", KEYS[0], "s", RunStatus.QUEUED, 5))
        return "went on"

    results = await _one_group(
        first, [_append(KEYS[0], "a"), swallows_a_database_error, _append(KEYS[0], "b")]
    )
    assert results[0] == (1, 1)
    assert isinstance(results[1], Unavailable)
    assert results[2] == (2, 2)
    assert await _texts(first) == ["a", "b"]


def _breaks_commit(tx: WriteTx) -> None:
    # A deferred foreign-key violation passes every statement and fails the COMMIT (which
    # rolls back the table too).
    assert isinstance(tx, PostgresWriteTx)
    tx.conn.execute(
        "CREATE TABLE doomed (session_id TEXT REFERENCES transcripts (session_id)"
        " DEFERRABLE INITIALLY DEFERRED)"
    )
    tx.conn.execute("INSERT INTO doomed VALUES ('no-such-transcript')")


async def test_a_failed_commit_is_unavailable_for_its_whole_group(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, second = replicas
    results = await _one_group(first, [_append(KEYS[0], "lost"), _breaks_commit])
    assert [type(r) for r in results] == [Unavailable, Unavailable]
    assert await _texts(second) == []
    assert await first.write(_append(KEYS[0], "kept")) == (1, 1)
    assert await _texts(second) == ["kept"]


async def test_a_group_that_meets_a_serialization_failure_runs_again_and_commits_once(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, _ = replicas
    runs: list[str] = []

    def fails_once(tx: WriteTx) -> str:
        runs.append("fails_once")
        if runs.count("fails_once") == 1:
            raise errors.SerializationFailure("could not serialize access")
        return "done"

    def counted(tx: WriteTx) -> tuple[int, int]:
        runs.append("counted")
        return _append(KEYS[0], "once")(tx)

    assert await _one_group(first, [counted, fails_once]) == [(1, 1), "done"]
    assert runs == ["counted", "fails_once", "counted", "fails_once"]
    assert await _texts(first) == ["once"]


async def test_a_group_whose_connection_dies_before_commit_runs_again(
    replicas: tuple[PostgresStore, PostgresStore],
) -> None:
    first, _ = replicas
    runs: list[int] = []

    def loses_its_connection_once(tx: WriteTx) -> tuple[int, int]:
        assert isinstance(tx, PostgresWriteTx)
        runs.append(tx.conn.info.backend_pid)
        appended = _append(KEYS[0], "once")(tx)
        if len(runs) == 1:
            tx.conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return appended

    assert await first.write(loses_its_connection_once) == (1, 1)
    assert len(runs) == 2
    assert runs[0] != runs[1], "run again on another connection"
    assert await _texts(first) == ["once"]


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
    postgres_url: str,
) -> None:
    store = await _opened(postgres_url)
    try:
        await store.write(_create_sessions)
        await asyncio.to_thread(_end_every_other_connection, postgres_url)
        assert await store.session(KEYS[0]) is not None
        await asyncio.to_thread(_end_every_other_connection, postgres_url)
        assert await store.write(_append(KEYS[0], "after")) == (1, 1)
        assert await _texts(store) == ["after"]
    finally:
        await store.close()


async def test_a_writers_lock_held_elsewhere_waits_then_is_unavailable(
    postgres_url: str,
) -> None:
    store = await _opened(postgres_url, lock_timeout_ms=300)
    try:
        await store.write(_create_sessions)
        with psycopg.connect(postgres_url) as stuck:  # a replica stalled inside a write
            stuck.execute("SELECT 1 FROM event_feed_head FOR UPDATE")
            waiting = asyncio.ensure_future(store.write(_append(KEYS[0], "late")))
            assert await store.session(KEYS[0]) is not None, "reads do not wait for writers"
            with pytest.raises(Unavailable):
                await waiting
        assert await store.write(_append(KEYS[0], "after")) == (1, 1)
        assert await _texts(store) == ["after"]
    finally:
        await store.close()


async def test_a_closed_store_is_unavailable(postgres_url: str) -> None:
    store = await _opened(postgres_url)
    await store.close()
    with pytest.raises(Unavailable):
        await store.write(_create_sessions)
    with pytest.raises(Unavailable):
        await store.read(lambda tx: tx.head_global_seq())
