"""Run ownership among replicas (core/runs/ownership.py, lease_keeper.py), in process: two
cores built by the composition root on one store are two replicas, on one in-process bus
or each on a NATS bus of its own (a real nats-server between them). A run
executes where its Send committed, under a lease; a replica that stops renewing has its
runs closed elsewhere and its late writes refused; Abort, streams and WaitRun on one
replica reach a run executing on the other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers import assert_eventually
from sessiond.bus.base import EventBus
from sessiond.bus.memory import MemoryBus
from sessiond.bus.nats import NatsBus
from sessiond.config import Config
from sessiond.core.runs.admission import SendInput
from sessiond.core.runs.lease_keeper import LeaseKeeper
from sessiond.core.runs.observe import NoRunObserver
from sessiond.core.runs.ownership import Leases
from sessiond.core.sessions.manager import NewSession
from sessiond.core.tenancy import Caller
from sessiond.domain.events import Event, Final, LiveDelta
from sessiond.domain.models import Role, Run, RunLease, RunStatus, StopReason
from sessiond.store.sqlite.store import SqliteStore
from sessiond.wiring import Backends, Core, agent_directory, build_core

KEY = "agent:main:shared"
LONG = "a reply that takes a while to stream " * 10

ANYONE = Caller()
"""The default tenant, without auth."""


@dataclass
class Replica:
    core: Core
    keeper: LeaseKeeper
    leases: Leases
    task: asyncio.Task[None] | None = None

    @property
    def runs(self):  # type: ignore[no-untyped-def]
        return self.core.services.runs

    def start_keeping(self) -> None:
        self.task = asyncio.create_task(self.keeper.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.core.executor.stop_all(StopReason.SHUTDOWN)
        await self.core.executor.close()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "shared.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def buses(kind: str, request: pytest.FixtureRequest) -> list[EventBus]:
    """One bus both replicas share (memory), or one each on the same NATS server."""
    if kind == "memory":
        bus = MemoryBus()
        return [bus, bus]
    url, prefix = request.getfixturevalue("nats_url"), request.getfixturevalue("nats_prefix")
    return [await NatsBus.connect(url, prefix), await NatsBus.connect(url, prefix)]


@pytest.fixture(params=["memory", "nats"])
async def replicas(
    store: SqliteStore, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Replica, Replica]]:
    config = Config(
        db_path=tmp_path / "shared.db",
        echo_delay_ms=10,
        echo_chunk_chars=2,
        run_lease_ms=400,
        run_lease_renew_ms=100,
    )
    each = await buses(request.param, request)
    made = []
    for bus in each:
        backends = Backends(store, bus, agent_directory(config), shared=True)
        core = build_core(config, backends, NoRunObserver())
        assert core.lease_keeper is not None
        leases = core.executor.ownership
        assert isinstance(leases, Leases)
        made.append(Replica(core, core.lease_keeper, leases))
    await made[0].core.services.manager.create(ANYONE, NewSession(key="shared"))
    try:
        yield made[0], made[1]
    finally:
        for replica in made:
            await replica.stop()
        for bus in each:
            await bus.close()
        for replica in made:
            await replica.core.services.runs.executor.agents.close()


async def lease_of(store: SqliteStore, run_id: str) -> RunLease | None:
    return await store.read(lambda tx: tx.get_lease(run_id))


async def run_of(store: SqliteStore, run_id: str) -> Run:
    run = await store.read(lambda tx: tx.get_run(run_id))
    assert run is not None
    return run


async def send(replica: Replica, text: str) -> Run:
    return (await replica.runs.send(ANYONE, SendInput(session_key=KEY, text=text))).run


def die(replica: Replica) -> None:
    """As SIGKILL would: its runs stop executing and nothing more is written or renewed."""
    for active in replica.core.executor.registry.all():
        assert active.task is not None
        active.task.cancel()  # no stop reason: the executor records nothing


async def test_a_run_holds_a_lease_of_the_replica_that_started_it(
    replicas: tuple[Replica, Replica], store: SqliteStore
) -> None:
    a, _ = replicas
    run = await send(a, LONG)
    lease = await lease_of(store, run.run_id)
    assert lease is not None
    assert (lease.owner, lease.epoch) == (a.leases.replica_id, 1)
    assert await a.keeper.renew_once() == []
    renewed = await lease_of(store, run.run_id)
    assert renewed is not None
    assert renewed.expires_at >= lease.expires_at
    done = await a.core.services.run_queries.wait_run(ANYONE, run.run_id, 10)
    assert done.status is RunStatus.DONE
    assert await lease_of(store, run.run_id) is None, "released with the run's end"


async def test_the_runs_of_a_dead_replica_are_closed_elsewhere_and_its_queue_goes_on(
    replicas: tuple[Replica, Replica], store: SqliteStore
) -> None:
    a, b = replicas
    first = await send(a, LONG)
    queued = await send(a, "next in line")
    assert queued.status is RunStatus.QUEUED
    die(a)

    async def reaped() -> None:
        assert await b.keeper.reap_once() == 1

    await assert_eventually(reaped, timeout=5)
    closed = await run_of(store, first.run_id)
    assert (closed.status, closed.stop_reason) == (RunStatus.ERROR, StopReason.SERVER_RESTART)
    lease = await lease_of(store, queued.run_id)
    assert lease is not None
    assert lease.owner == b.leases.replica_id, "the queue went on on b"
    done = await b.core.services.run_queries.wait_run(ANYONE, queued.run_id, 10)
    assert done.status is RunStatus.DONE


async def test_a_replica_whose_lease_was_taken_over_writes_nothing_more(
    replicas: tuple[Replica, Replica], store: SqliteStore
) -> None:
    a, b = replicas
    run = await send(a, LONG)
    # a stalls (it does not renew); its lease expires and b takes the run over.
    await assert_eventually(lambda: _reap(b), timeout=5)
    assert (await run_of(store, run.run_id)).stop_reason == StopReason.SERVER_RESTART
    active = a.core.executor.registry.get(run.run_id)
    assert active is not None, "a still executes it"
    assert await a.keeper.renew_once() == [run.run_id], "a learns it lost the lease"
    await asyncio.wait_for(active.done.wait(), 5)
    ended = await run_of(store, run.run_id)
    assert (ended.status, ended.stop_reason) == (RunStatus.ERROR, StopReason.SERVER_RESTART)
    messages = await store.read(
        lambda tx: tx.list_messages(run.session_id, limit=10, include_silent=True)
    )
    assert [m.role for m in messages] == [Role.USER], "a's partial reply was refused"


async def _reap(replica: Replica) -> None:
    assert await replica.keeper.reap_once() == 1


async def test_abort_on_one_replica_stops_the_run_executing_on_the_other(
    replicas: tuple[Replica, Replica], store: SqliteStore
) -> None:
    a, b = replicas
    a.start_keeping()  # a answers commands on its control topic
    run = await send(a, LONG)
    await _first_delta_published(a, run)
    aborted = await b.runs.abort(ANYONE, KEY, "", clear_queue=False)
    assert aborted.aborted_run_id == run.run_id
    ended = await run_of(store, run.run_id)
    assert (ended.status, ended.stop_reason) == (RunStatus.ABORTED, StopReason.ABORTED)
    messages = await store.read(
        lambda tx: tx.list_messages(run.session_id, limit=10, include_silent=True)
    )
    partial = messages[-1]
    assert partial.role is Role.ASSISTANT
    assert LONG.startswith(partial.text), "the partial reply, kept by a"


async def _first_delta_published(replica: Replica, run: Run) -> None:
    def started() -> None:
        active = replica.core.executor.registry.get(run.run_id)
        assert active is not None
        assert active.shaper.visible

    await assert_eventually(started, timeout=5)


async def test_a_stream_on_one_replica_gets_the_reply_so_far_of_a_run_on_the_other(
    replicas: tuple[Replica, Replica],
) -> None:
    a, b = replicas
    a.start_keeping()
    run = await send(a, LONG)
    await _first_delta_published(a, run)
    start = await b.core.services.chat_streams.start_cursor(ANYONE, KEY, 0, start_at_end=True)
    text = ""
    final: Final | None = None
    items = b.core.services.chat_streams.watch(ANYONE, KEY, start)
    async with asyncio.timeout(10):
        async for item in items:
            if isinstance(item, LiveDelta) and item.run_id == run.run_id:
                assert item.offset == len(text), "contiguous from offset 0"
                text += item.text
            if isinstance(item, Event) and isinstance(item.body, Final):
                final = item.body
                break
    await items.aclose()  # type: ignore[attr-defined]
    assert final is not None
    assert final.message is not None
    assert text == final.message.text == LONG
    waited = await b.core.services.run_queries.wait_run(ANYONE, run.run_id, 5)
    assert waited.status is RunStatus.DONE
