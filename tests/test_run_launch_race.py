"""A run is committed RUNNING by one write and launched by its caller a moment later. An
Abort that lands in that gap finds no executing run and records the end directly; the
launch that follows must not execute the run (a zombie reply after its `aborted`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sessiond.bus.memory import MemoryBus
from sessiond.config import Config
from sessiond.core.runs.admission import SendInput, checked
from sessiond.core.runs.observe import NoRunObserver
from sessiond.core.runs.queries import RunQueries
from sessiond.core.runs.registry import RunRegistry
from sessiond.core.runs.service import RunService, SendResult, SendStatus
from sessiond.core.sessions.manager import NewSession
from sessiond.core.tenancy import Caller
from sessiond.domain.models import RunStatus, Session, StopReason
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.sqlite.store import SqliteStore
from sessiond.wiring import Backends, agent_directory, build_core

T = TypeVar("T")
KEY = "agent:main:race"

ANYONE = Caller()
"""The default tenant, without auth."""


class GatedStore:
    """The real SQLite store; while `gate` is cleared, a committed write's caller waits
    for it before resuming (the commit itself is not held)."""

    def __init__(self, store: SqliteStore) -> None:
        self.store = store
        self.gate = asyncio.Event()
        self.gate.set()
        self.held = asyncio.Event()

    async def session(self, key: str) -> Session | None:
        return await self.store.session(key)

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        return await self.store.read(fn)

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        result = await self.store.write(fn)
        if not self.gate.is_set():
            self.held.set()
            await self.gate.wait()
        return result


@dataclass
class Core:
    store: GatedStore
    runs: RunService
    registry: RunRegistry
    queries: RunQueries

    async def commit_send(self, text: str) -> SendResult:
        """The first half of a Send: the run committed RUNNING, not launched."""
        request = SendInput(session_key=KEY, text=text)
        send = checked(self.runs.rules, ANYONE, request, steer=False)
        result = await self.runs.committer.commit(
            lambda tx, events: self.runs._admit(tx, events, send)
        )
        assert isinstance(result, SendResult)
        return result

    async def status(self, run_id: str) -> RunStatus:
        run = await self.store.read(lambda tx: tx.get_run(run_id))
        assert run is not None
        return run.status


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    sqlite = SqliteStore(tmp_path / "race.db")
    await sqlite.open()
    store = GatedStore(sqlite)
    config = Config(db_path=tmp_path / "race.db")
    backends = Backends(store, MemoryBus(), agent_directory(config))
    core = build_core(config, backends, NoRunObserver())
    services = core.services
    await services.manager.create(ANYONE, NewSession(key="race"))
    try:
        yield Core(store, services.runs, services.runs.registry, services.run_queries)
    finally:
        await core.executor.stop_all(StopReason.SHUTDOWN)
        await sqlite.close()


async def test_a_run_aborted_before_its_launch_is_not_executed(core: Core) -> None:
    sent = await core.commit_send("hello")
    assert sent.status is SendStatus.STARTED
    aborted = await core.runs.abort(ANYONE, KEY, "", clear_queue=False)
    assert aborted.aborted_run_id == sent.run.run_id
    assert await core.status(sent.run.run_id) is RunStatus.ABORTED

    assert core.runs.executor.launch(sent.run, sent.inputs) is None
    assert core.registry.get(sent.run.run_id) is None
    # The session is free for the next message, whose run does execute.
    again = await core.runs.send(ANYONE, SendInput(session_key=KEY, text="again"))
    assert again.status is SendStatus.STARTED
    assert await core.queries.wait_run(ANYONE, again.run.run_id, 5) is not None
    assert await core.status(again.run.run_id) is RunStatus.DONE


async def test_a_run_launched_while_its_abort_commits_is_stopped(core: Core) -> None:
    sent = await core.commit_send("a reply that must not be finished " * 20)
    core.store.gate.clear()  # the abort's write commits, its caller waits
    abort = asyncio.create_task(core.runs.abort(ANYONE, KEY, "", clear_queue=False))
    await asyncio.wait_for(core.store.held.wait(), 5)
    active = core.runs.executor.launch(sent.run, sent.inputs)
    assert active is not None  # launched before the abort finished: it must be stopped
    core.store.gate.set()
    result = await asyncio.wait_for(abort, 5)
    assert result.aborted_run_id == sent.run.run_id
    assert active.done.is_set()
    assert active.stop_reason is StopReason.ABORTED
    assert await core.status(sent.run.run_id) is RunStatus.ABORTED
    messages: list[Any] = await core.store.read(
        lambda tx: tx.list_messages(sent.run.session_id, limit=10, include_silent=True)
    )
    assert [m.text for m in messages] == ["a reply that must not be finished " * 20]
