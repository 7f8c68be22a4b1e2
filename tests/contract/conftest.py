"""Fixtures of the contract suites: one `store` per Store implementation, one `bus` per
EventBus implementation. Every test of `tests/contract` runs against each of them.

An implementation joins by adding one factory under its id: an async context manager
that takes the pytest request (for any fixture it needs, through
`request.getfixturevalue`) and yields an open store or bus, closing it on exit. A server
shared by the whole session comes from a session-scoped fixture: `postgres_store` takes
a fresh database of the session's PostgreSQL (`postgres_url`, tests/postgres_db.py).

Tests may close the store or bus themselves: the factory closes it again on exit, and
`close` is idempotent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from sessiond.bus.base import EventBus
from sessiond.bus.memory import MemoryBus
from sessiond.bus.nats import NatsBus
from sessiond.store.base import Store
from sessiond.store.memory import MemoryStore
from sessiond.store.postgres import PostgresStore
from sessiond.store.sqlite import SqliteStore

StoreFactory = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[Store]]
BusFactory = Callable[[pytest.FixtureRequest], AbstractAsyncContextManager[EventBus]]


@asynccontextmanager
async def opened(store: Store) -> AsyncIterator[Store]:
    await store.open()
    try:
        yield store
    finally:
        await store.close()


def sqlite_store(request: pytest.FixtureRequest) -> AbstractAsyncContextManager[Store]:
    tmp_path: Path = request.getfixturevalue("tmp_path")
    return opened(SqliteStore(tmp_path / "contract.db"))


def memory_store(request: pytest.FixtureRequest) -> AbstractAsyncContextManager[Store]:
    return opened(MemoryStore())


def postgres_store(request: pytest.FixtureRequest) -> AbstractAsyncContextManager[Store]:
    url: str = request.getfixturevalue("postgres_url")  # a fresh database per test
    return opened(PostgresStore(url))


@asynccontextmanager
async def memory_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    bus = MemoryBus()
    try:
        yield bus
    finally:
        await bus.close()


@asynccontextmanager
async def nats_bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    """A NatsBus on the test session's nats-server, on subjects of the test's own."""
    url, prefix = request.getfixturevalue("nats_url"), request.getfixturevalue("nats_prefix")
    bus = await NatsBus.connect(url, prefix)
    try:
        yield bus
    finally:
        await bus.close()


STORE_FACTORIES: dict[str, StoreFactory] = {
    "sqlite": sqlite_store,
    "memory": memory_store,
    "postgres": postgres_store,
}
BUS_FACTORIES: dict[str, BusFactory] = {"memory": memory_bus, "nats": nats_bus}


@pytest.fixture(params=list(STORE_FACTORIES))
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    async with STORE_FACTORIES[request.param](request) as opened_store:
        yield opened_store


@pytest.fixture(params=list(BUS_FACTORIES))
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    async with BUS_FACTORIES[request.param](request) as opened_bus:
        yield opened_bus
