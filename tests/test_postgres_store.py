"""What store/postgres owes several replicas sharing one database: two stores on one
database stand for two replicas. Cursors stay gap-free and in commit order under writes
from both, writes are serialisable across them, idempotency keys, labels and leases hold
across them, a read sees one snapshot, and migrations by several at once apply once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from postgres_records import KEYS, append, create_sessions, opened, session_record
from psycopg import errors
from sessiond.domain.errors import LabelInUse
from sessiond.domain.models import Run, RunLease, RunStatus
from sessiond.store.base import WriteTx
from sessiond.store.postgres import PostgresStore
from sessiond.store.postgres.migrations import MIGRATIONS


@pytest.fixture
async def replicas(postgres_url: str) -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    first = await opened(postgres_url)
    second = await opened(postgres_url)
    await first.write(create_sessions)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


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
        return [await store.write(append(KEYS[(index + n) % 3])) for n in range(40)]

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
    await first.write(lambda tx: tx.insert_session(session_record("agent:main:x", label="Ops")))
    with pytest.raises(LabelInUse):
        await second.write(
            lambda tx: tx.insert_session(session_record("agent:main:y", label="Ops"))
        )
    taken = session_record(KEYS[1], label="Ops")
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
    await first.write(append(KEYS[0]))

    def read_twice_around_a_commit(tx: Any) -> tuple[int, int]:
        before = tx.head_global_seq()
        # Another replica commits between the two SELECTs of this read.
        with psycopg.connect(postgres_url, autocommit=True) as other:
            other.execute("UPDATE event_feed_head SET last_global_seq = last_global_seq + 1")
        return before, tx.head_global_seq()

    assert await first.read(read_twice_around_a_commit) == (1, 1)
    assert await first.read(lambda tx: tx.head_global_seq()) == 2


async def test_replicas_starting_at_once_migrate_once(postgres_url: str) -> None:
    stores = await asyncio.gather(*(opened(postgres_url) for _ in range(3)))
    try:
        await stores[0].write(create_sessions)
        assert await stores[2].write(append(KEYS[0])) == (1, 1)
    finally:
        for store in stores:
            await store.close()
    with psycopg.connect(postgres_url) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == [name for name, _ in MIGRATIONS]  # each once
