"""PostgreSQL store: several replicas (processes) share one database.

Threads, like the SQLite store's: one writer thread group-commits the writes queued while
it was busy (group.py), and reader threads run read functions, each in a REPEATABLE READ
READ ONLY transaction (one snapshot). Both take connections from one
`psycopg_pool.ConnectionPool` of `readers + 1` connections. The asyncio loop only queues
work and awaits futures.

Across replicas, every write transaction first locks the single row of `event_feed_head`
(write_tx.py `begin`) and keeps the lock until it commits, so:
* writes are serialisable: they run one at a time, each in READ COMMITTED, seeing every
  write committed before it (no lost update between replicas, no serialization failures);
* cursors and global positions are assigned in commit order: a transaction numbers its
  events only after the previous holder's commit is visible, so no reader sees position
  N+1 before N. (A sequence would not do: its values are handed out at insert, and
  transactions commit in any order.)
The price is that the whole cluster commits one group at a time: write throughput is about
(group size) / (one group's time in the database, commit included), shared by all
replicas. Group commit is what keeps that high: a busy replica sends many writes per lock.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import orjson
import psycopg
import structlog
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool
from sessiond.domain.errors import Unavailable
from sessiond.domain.models import Session
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.postgres.group import commit_group, rollback
from sessiond.store.postgres.migrations import migrate
from sessiond.store.postgres.read_tx import Connection, PostgresReadTx
from sessiond.store.write_queue import Job, Jobs, take_group

T = TypeVar("T")
log = structlog.get_logger(__name__)

READ_ATTEMPTS = 2
"""A read whose connection turns out broken (the server restarted) is tried once more,
after the pool has replaced its dead connections."""


class PostgresStore:
    """The shared store of several replicas, at a `postgresql://` URL."""

    def __init__(
        self,
        url: str,
        *,
        readers: int = 4,
        lock_timeout_ms: int = 5000,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if readers < 1:
            raise ValueError("readers must be at least 1")
        self.url = url
        self.readers = readers
        self.lock_timeout_ms = lock_timeout_ms
        self.connect_timeout_s = connect_timeout_s
        self._jobs: Jobs = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader_threads = ThreadPoolExecutor(readers, thread_name_prefix="pg-read")
        # A reader thread holds at most one connection, and so does the writer: the pool
        # always has one for each.
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=readers + 1,
            max_size=readers + 1,
            open=False,
            kwargs={"autocommit": True},  # transactions are begun and ended explicitly
            configure=self._configure,
            timeout=connect_timeout_s,
            name="sessiond-store",
        )
        self._closed = False

    def _configure(self, conn: Connection) -> None:
        set_json_loads(orjson.loads, conn)
        # A writer waits this long for the writers' lock; a session that holds it and
        # stalls between statements (a frozen replica) is ended by the server.
        conn.execute(f"SET lock_timeout = {int(self.lock_timeout_ms)}")
        conn.execute("SET idle_in_transaction_session_timeout = 60000")

    async def open(self) -> None:
        await asyncio.to_thread(self._open)
        self._writer = threading.Thread(target=self._write_loop, name="pg-writer", daemon=True)
        self._writer.start()

    def _open(self) -> None:
        # A connection of its own first: an unreachable server fails here with its reason.
        with psycopg.connect(
            self.url, autocommit=True, connect_timeout=max(1, int(self.connect_timeout_s))
        ) as conn:
            applied = migrate(conn)
        if applied:
            log.info("store.migrated", applied=applied)
        self._pool.open(wait=True, timeout=self.connect_timeout_s)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True  # from here on a write or a read is UNAVAILABLE
        writer, self._writer = self._writer, None
        if writer is not None:
            self._jobs.put(None)
            await asyncio.to_thread(writer.join)
        await asyncio.to_thread(self._reader_threads.shutdown, wait=True)
        await asyncio.to_thread(self._pool.close)

    async def session(self, key: str) -> Session | None:
        # No memory of sessions: other replicas write too. One statement is a snapshot of
        # its own (the connection autocommits): no BEGIN and ROLLBACK around it.
        return await self._read(lambda tx: tx.get_session(key), snapshot=False)

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        return await self._read(fn, snapshot=True)

    async def _read(self, fn: Callable[[ReadTx], T], *, snapshot: bool) -> T:
        if self._closed:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        run = functools.partial(self._run_read, fn, snapshot=snapshot)
        return await loop.run_in_executor(self._reader_threads, run)

    def _run_read(self, fn: Callable[[ReadTx], T], *, snapshot: bool) -> T:
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                with self._pool.connection() as conn:
                    if not snapshot:
                        return fn(PostgresReadTx(conn))
                    return self._read_in_snapshot(conn, fn)
            except psycopg.OperationalError as exc:  # connection lost, pool closed or timed out
                if attempt == READ_ATTEMPTS or self._closed:
                    raise Unavailable("storage read failed") from exc
                log.warning("store.read_retry", error=str(exc))
                self._pool.check()  # the server restarted? replace the dead connections
        raise AssertionError("unreachable")

    def _read_in_snapshot(self, conn: Connection, fn: Callable[[ReadTx], T]) -> T:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return fn(PostgresReadTx(conn))
        finally:
            rollback(conn)

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        if self._writer is None:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(Job(fn, future))
        return await future

    # -- the writer thread -------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            stop = take_group(self._jobs, group)
            outcomes = commit_group(self._pool, group)
            for job, outcome in zip(group, outcomes, strict=True):
                job.resolve_soon(outcome)
            if stop:
                return
