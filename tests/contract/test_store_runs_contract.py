"""The Store contract, part 4: runs (the queue, idempotency, open runs, leases) and
checkpoints."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace

from sessiond.domain.models import Run, RunLease, RunStatus, Usage
from sessiond.store.base import ReadTx, Store, WriteTx

from contract.store_records import checkpoint, run, session


async def insert_runs(store: Store, *runs: Run) -> None:
    def write(tx: WriteTx) -> None:
        for each in runs:
            tx.insert_run(each)

    await store.write(write)


def run_ids(
    store: Store, key: str, status: RunStatus | None = None, limit: int = 100, offset: int = 0
) -> Awaitable[list[str]]:
    return store.read(lambda tx: [r.run_id for r in tx.list_runs(key, status, limit, offset)])


async def test_a_run_round_trips_and_updates(store: Store) -> None:
    full = run(
        "run-1",
        status=RunStatus.RUNNING,
        idempotency_key="idem",
        request_hash="hash",
        message_seq=3,
        started_at=11,
        usage=Usage(1, 2, 3, 4, 0.5),
        timeout_ms=1000,
        thinking="high",
        priority=1,
        first_cursor=9,
        scope="life-1",
    )
    await insert_runs(store, full)
    assert await store.read(lambda tx: tx.get_run("run-1")) == full
    ended = replace(
        full,
        status=RunStatus.ERROR,
        stop_reason="error",
        error_message="boom",
        error_kind="timeout",
        ended_at=12,
    )
    await store.write(lambda tx: tx.update_run(ended))
    assert await store.read(lambda tx: tx.get_run("run-1")) == ended
    assert await store.read(lambda tx: tx.get_run("run-unknown")) is None


async def test_list_runs_is_newest_first_per_session(store: Store) -> None:
    await insert_runs(
        store,
        run("r1", created_at=10),
        run("r2", created_at=30, status=RunStatus.DONE),
        run("r3", created_at=20),
        run("r4", created_at=20, status=RunStatus.DONE),  # ties: the later insert first
        run("other", "agent:main:b", created_at=40),
    )
    assert await run_ids(store, "agent:main:a") == ["r2", "r4", "r3", "r1"]
    assert await run_ids(store, "agent:main:a", RunStatus.QUEUED) == ["r3", "r1"]
    assert await run_ids(store, "agent:main:a", RunStatus.DONE) == ["r2", "r4"]
    assert await run_ids(store, "agent:main:a", RunStatus.RUNNING) == []
    assert await run_ids(store, "agent:main:a", limit=2, offset=1) == ["r4", "r3"]
    assert await run_ids(store, "agent:main:a", limit=2, offset=4) == []
    assert await run_ids(store, "agent:main:b") == ["other"]
    # A status change moves a run between the filtered lists.
    await store.write(lambda tx: tx.update_run(run("r1", created_at=10, status=RunStatus.DONE)))
    assert await run_ids(store, "agent:main:a", RunStatus.DONE) == ["r2", "r4", "r1"]


async def test_idempotency_keys_find_their_run_per_session_instance(store: Store) -> None:
    await insert_runs(
        store,
        run("r1", scope="life-1", idempotency_key="idem"),
        run("r2", "agent:main:b", scope="life-1", idempotency_key="idem"),
        run("r3", scope="life-2", idempotency_key="idem"),  # the key, deleted and re-created
        run("r4", scope="", idempotency_key="idem"),  # sent before scopes were recorded
        run("r5", scope="life-1"),
    )

    def found(key: str, scope: str, idempotency_key: str) -> Awaitable[str | None]:
        def read(tx: ReadTx) -> str | None:
            hit = tx.find_run_by_idempotency(key, scope, idempotency_key)
            return hit.run_id if hit is not None else None

        return store.read(read)

    assert await found("agent:main:a", "life-1", "idem") == "r1"
    assert await found("agent:main:b", "life-1", "idem") == "r2"
    assert await found("agent:main:a", "life-2", "idem") == "r3"
    assert await found("agent:main:a", "", "idem") == "r4"
    assert await found("agent:main:c", "life-1", "idem") is None
    assert await found("agent:main:a", "life-3", "idem") is None
    assert await found("agent:main:a", "life-1", "other") is None
    assert await found("agent:main:a", "life-1", "") is None  # runs without a key: never
    done = run("r1", scope="life-1", idempotency_key="idem", status=RunStatus.DONE)
    await store.write(lambda tx: tx.update_run(done))
    hit = await store.read(lambda tx: tx.find_run_by_idempotency("agent:main:a", "life-1", "idem"))
    assert hit == done


async def test_the_queue_starts_steered_runs_first_then_in_send_order(store: Store) -> None:
    await insert_runs(
        store,
        run("active", status=RunStatus.RUNNING, created_at=1),
        run("q1", created_at=10),
        run("q2", created_at=20),
        run("steered", created_at=30, priority=1),
        run("q3", created_at=20),  # same time as q2, sent after it
        run("done", created_at=5, status=RunStatus.DONE),
        run("elsewhere", "agent:main:b", created_at=0),
    )

    async def drain() -> list[str]:
        started: list[str] = []

        def start_next(tx: WriteTx) -> str | None:
            queued = tx.next_queued_run("agent:main:a")
            if queued is not None:
                tx.update_run(replace(queued, status=RunStatus.RUNNING))
            return queued.run_id if queued is not None else None

        while (run_id := await store.write(start_next)) is not None:
            started.append(run_id)
        return started

    count = await store.read(lambda tx: tx.count_runs("agent:main:a", RunStatus.QUEUED))
    assert count == 4
    assert await drain() == ["steered", "q1", "q2", "q3"]
    counts = await store.read(
        lambda tx: [tx.count_runs("agent:main:a", s) for s in (RunStatus.QUEUED, RunStatus.RUNNING)]
    )
    assert counts == [0, 5]
    queued = await store.read(lambda tx: tx.next_queued_run("agent:main:b"))
    assert queued is not None
    assert queued.run_id == "elsewhere"
    assert await store.read(lambda tx: tx.next_queued_run("agent:main:none")) is None


async def test_open_runs_are_the_queued_and_running_ones_oldest_first(store: Store) -> None:
    await insert_runs(
        store,
        run("b-running", "agent:main:b", status=RunStatus.RUNNING, created_at=20),
        run("a-queued", created_at=30),
        run("a-done", created_at=5, status=RunStatus.DONE),
        run("a-running", status=RunStatus.RUNNING, created_at=10),
        run("c-queued", "agent:main:c", created_at=30),
        run("a-aborted", created_at=1, status=RunStatus.ABORTED),
        run("a-error", created_at=2, status=RunStatus.ERROR),
    )
    open_runs = await store.read(lambda tx: [r.run_id for r in tx.open_runs()])
    assert open_runs == ["a-running", "b-running", "a-queued", "c-queued"]


async def test_checkpoints_are_listed_newest_first_and_deleted(store: Store) -> None:
    await store.write(lambda tx: tx.insert_session(session()))
    await store.write(lambda tx: tx.insert_session(session("agent:main:b")))
    sid = "sid-agent:main:a"

    def record(tx: WriteTx) -> None:
        tx.insert_checkpoint(checkpoint("cp-1", "agent:main:a", sid, 10))
        tx.insert_checkpoint(checkpoint("cp-2", "agent:main:a", sid, 30))
        tx.insert_checkpoint(checkpoint("cp-3", "agent:main:a", sid, 10))  # tie: later first
        tx.insert_checkpoint(checkpoint("cp-b", "agent:main:b", "sid-agent:main:b", 40))

    await store.write(record)

    def ids(key: str) -> Awaitable[list[str]]:
        return store.read(lambda tx: [c.checkpoint_id for c in tx.list_checkpoints(key)])

    assert await ids("agent:main:a") == ["cp-2", "cp-3", "cp-1"]
    assert await ids("agent:main:b") == ["cp-b"]
    assert await ids("agent:main:none") == []
    got = await store.read(lambda tx: tx.get_checkpoint("cp-2"))
    assert got == checkpoint("cp-2", "agent:main:a", sid, 30)
    await store.write(lambda tx: tx.delete_checkpoint("cp-2"))
    assert await ids("agent:main:a") == ["cp-3", "cp-1"]
    assert await store.read(lambda tx: tx.get_checkpoint("cp-2")) is None
    await store.write(lambda tx: tx.delete_checkpoint("cp-unknown"))  # nothing to delete


async def test_a_lease_is_put_replaced_renewed_by_its_holder_and_deleted(store: Store) -> None:
    lease = RunLease("run-1", "agent:main:a", owner="replica-a", epoch=1, expires_at=100)
    await store.write(lambda tx: tx.put_lease(lease))
    assert await store.read(lambda tx: tx.get_lease("run-1")) == lease
    assert await store.read(lambda tx: tx.get_lease("run-unknown")) is None

    def renew(owner: str, epoch: int, expires_at: int, run_id: str = "run-1") -> Awaitable[bool]:
        return store.write(lambda tx: tx.renew_lease(run_id, owner, epoch, expires_at))

    assert await renew("replica-a", 1, 200)
    assert await renew("replica-b", 1, 300) is False  # not the holder
    assert await renew("replica-a", 2, 300) is False  # not its epoch
    assert await renew("replica-a", 1, 300, run_id="run-unknown") is False
    assert await store.read(lambda tx: tx.get_lease("run-1")) == replace(lease, expires_at=200)
    taken = RunLease("run-1", "agent:main:a", owner="replica-b", epoch=2, expires_at=500)
    await store.write(lambda tx: tx.put_lease(taken))
    assert await store.read(lambda tx: tx.get_lease("run-1")) == taken
    assert await renew("replica-a", 1, 600) is False  # the old holder is fenced off
    await store.write(lambda tx: tx.delete_lease("run-1"))
    assert await store.read(lambda tx: tx.get_lease("run-1")) is None
    await store.write(lambda tx: tx.delete_lease("run-1"))  # nothing to delete


async def test_expired_leases_are_listed_oldest_first(store: Store) -> None:
    def put(tx: WriteTx) -> None:
        for run_id, expires_at in (("r1", 30), ("r2", 10), ("r3", 50), ("r4", 20)):
            tx.put_lease(RunLease(run_id, "agent:main:a", "replica-a", 1, expires_at))

    await store.write(put)

    def expired(now: int, limit: int = 100) -> Awaitable[list[str]]:
        return store.read(lambda tx: [lease.run_id for lease in tx.expired_leases(now, limit)])

    assert await expired(50) == ["r2", "r4", "r1"]  # expires_at < now
    assert await expired(50, limit=2) == ["r2", "r4"]
    assert await expired(10) == []
    assert await expired(1_000) == ["r2", "r4", "r1", "r3"]
