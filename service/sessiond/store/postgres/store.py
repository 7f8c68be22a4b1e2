"""PostgreSQL store: several replicas (processes) share one database.

Threads, like the SQLite store's: one writer thread group-commits the writes queued while
it was busy (each function in a savepoint of one transaction), and reader threads run
read functions, each in a REPEATABLE READ READ ONLY transaction (one snapshot). Both take
connections from one `psycopg_pool.ConnectionPool` of `readers + 1` connections. The
asyncio loop only queues work and awaits futures.

Across replicas, every write transaction first locks the single row of `event_feed_head`
(write_tx.py `lock_writers`) and keeps the lock until it commits, so:
* writes are serialisable: they run one at a time, each in READ COMMITTED, seeing every
  write committed before it (no lost update between replicas, no serialization failures);
* cursors and global positions are assigned in commit order: a transaction numbers its
  events only after the previous holder's commit is visible, so no reader sees position
  N+1 before N. (A sequence would not do: its values are handed out at insert, and
  transactions commit in any order.)
The price is that the whole cluster commits one group at a time: write throughput is about
(group size) / (one group's time in the database, commit included), shared by all
replicas. Group commit is what keeps that high: a busy replica sends many writes per lock.

Retries: a group that meets a serialization failure or a deadlock (neither expected under
the lock, but the database may report them) or loses its connection before COMMIT is
rolled back and run again from the start, on a fresh connection: write functions may run
more than once (the Store contract). A COMMIT that fails, or the lock not obtained within
`lock_timeout_ms`, fails every write of the group with `Unavailable`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
import psycopg
import structlog
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool
from sessiond.domain.errors import SessiondError, Unavailable
from sessiond.domain.models import Session
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.postgres.migrations import migrate
from sessiond.store.postgres.read_tx import Connection, PostgresReadTx
from sessiond.store.postgres.write_tx import PostgresWriteTx

T = TypeVar("T")
log = structlog.get_logger(__name__)

MAX_GROUP = 256
"""A group commit takes at most this many queued writes; bounds the latency of the first."""
MAX_ATTEMPTS = 5
"""Runs of a group that keeps meeting serialization failures, deadlocks or lost connections."""
READ_ATTEMPTS = 2
"""A read whose connection turns out broken (the server restarted) is tried once more."""

_RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


@dataclass(slots=True)
class _Job:
    fn: Callable[[WriteTx], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_Outcome = tuple[Any, BaseException | None]
"""A write function's result, or what it (or its group's commit) raised."""


class _Retry(Exception):
    """The group's transaction was rolled back and may be run again."""


def _failed(group: list[_Job], exc: BaseException) -> list[_Outcome]:
    log.error("store.commit_failed", error=str(exc), writes=len(group))
    return [(None, Unavailable("storage write failed"))] * len(group)


def _resolve(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


def _ends_attempt(exc: BaseException, conn: Connection) -> bool:
    """Whether `exc` ends the group's attempt (to be retried) rather than one function."""
    return isinstance(exc, _RETRYABLE) or conn.closed


def _rollback(conn: Connection) -> None:
    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # the pool replaces it


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
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
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
        # No memory of sessions: other replicas write too.
        return await self.read(lambda tx: tx.get_session(key))

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        if self._closed:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_threads, self._run_read, fn)

    def _run_read(self, fn: Callable[[ReadTx], T]) -> T:
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                with self._pool.connection() as conn:
                    return self._read_in_snapshot(conn, fn)
            except psycopg.OperationalError as exc:  # connection lost, pool closed or timed out
                if attempt == READ_ATTEMPTS or self._closed:
                    raise Unavailable("storage read failed") from exc
                log.warning("store.read_retry", error=str(exc))
        raise AssertionError("unreachable")

    def _read_in_snapshot(self, conn: Connection, fn: Callable[[ReadTx], T]) -> T:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            return fn(PostgresReadTx(conn))
        finally:
            _rollback(conn)

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        if self._writer is None:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, future, loop))
        return await future

    # -- the writer thread -------------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            first = self._jobs.get()
            if first is None:
                return
            group = [first]
            stop = self._drain_into(group)
            outcomes = self._commit_group(group)
            for job, (result, error) in zip(group, outcomes, strict=True):
                job.loop.call_soon_threadsafe(_resolve, job, result, error)
            if stop:
                return

    def _drain_into(self, group: list[_Job]) -> bool:
        """Adds already-queued jobs to the group; True when the close sentinel was seen."""
        while len(group) < MAX_GROUP:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            group.append(job)
        return False

    def _commit_group(self, group: list[_Job]) -> list[_Outcome]:
        """Runs the group in one transaction and commits it, again while it may be retried."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                with self._pool.connection() as conn:
                    return self._run_group(conn, group)
            except _Retry as retry:
                cause = retry.__cause__ or retry
                if attempt == MAX_ATTEMPTS:
                    return _failed(group, cause)
                log.warning("store.write_retry", error=str(cause), attempt=attempt)
            except Exception as exc:  # the lock not obtained in time, the pool closed...
                return _failed(group, exc)
        raise AssertionError("unreachable")

    def _run_group(self, conn: Connection, group: list[_Job]) -> list[_Outcome]:
        tx = PostgresWriteTx(conn)
        try:
            conn.execute("BEGIN")
            tx.lock_writers()
            if len(group) == 1:
                outcome = self._run_alone(conn, tx, group[0])
                if outcome[1] is not None:
                    return [outcome]  # rolled back: nothing to commit
                outcomes = [outcome]
            else:
                outcomes = [self._run_in_savepoint(conn, tx, job) for job in group]
        except Exception as exc:
            _rollback(conn)
            if _ends_attempt(exc, conn):
                raise _Retry() from exc
            raise
        try:
            conn.execute("COMMIT")
        except psycopg.Error as exc:
            _rollback(conn)
            if isinstance(exc, _RETRYABLE):  # refused at commit: nothing was committed
                raise _Retry() from exc
            return _failed(group, exc)  # lost connection: the outcome is not known
        return outcomes

    def _run_alone(self, conn: Connection, tx: PostgresWriteTx, job: _Job) -> _Outcome:
        """A group of one needs no savepoint: if it raises, the transaction is rolled back."""
        try:
            result = job.fn(tx)
        except Exception as exc:
            if _ends_attempt(exc, conn):
                raise
            _log_failure(exc)
            _rollback(conn)
            return None, exc
        if conn.info.transaction_status == TransactionStatus.INERROR:
            _rollback(conn)
            return None, _went_on_after_error()
        return result, None

    def _run_in_savepoint(self, conn: Connection, tx: PostgresWriteTx, job: _Job) -> _Outcome:
        """One function of a group: if it raises, it is rolled back alone."""
        conn.execute("SAVEPOINT job")
        try:
            result = job.fn(tx)
        except Exception as exc:
            if _ends_attempt(exc, conn):
                raise
            _log_failure(exc)
            conn.execute("ROLLBACK TO SAVEPOINT job")
            conn.execute("RELEASE SAVEPOINT job")
            return None, exc
        if conn.info.transaction_status == TransactionStatus.INERROR:
            conn.execute("ROLLBACK TO SAVEPOINT job")
            conn.execute("RELEASE SAVEPOINT job")
            return None, _went_on_after_error()
        conn.execute("RELEASE SAVEPOINT job")
        return result, None


def _log_failure(exc: Exception) -> None:
    """Called in the handler of `exc`: a failure that is not a domain error is a bug."""
    if not isinstance(exc, SessiondError):
        log.exception("store.write_failed")


def _went_on_after_error() -> Exception:
    """A write function caught a database error and returned: its writes are dropped."""
    log.error("store.write_failed", error="a write function returned after a database error")
    return Unavailable("storage write failed")
