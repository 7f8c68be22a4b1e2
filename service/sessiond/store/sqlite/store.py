"""SQLite store: one writer thread that group-commits, reader threads, WAL."""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sessiond.core.errors import SessiondError, Unavailable
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.sqlite.checkpointer import Checkpointer
from sessiond.store.sqlite.migrations import migrate
from sessiond.store.sqlite.tx import SqliteReadTx
from sessiond.store.sqlite.write_tx import SqliteWriteTx

T = TypeVar("T")
log = structlog.get_logger(__name__)

# A group commit takes at most this many queued writes; bounds the latency of the first.
MAX_GROUP = 256


@dataclass(slots=True)
class _Job:
    fn: Callable[[WriteTx], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _connect(
    path: Path, synchronous: str, *, readonly: bool = False, writer: bool = False
) -> sqlite3.Connection:
    uri = f"file:{path}{'?mode=ro' if readonly else ''}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    if writer:
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's job
    return conn


def _resolve(job: _Job, result: Any, error: BaseException | None) -> None:
    if job.future.done():
        return
    if error is not None:
        job.future.set_exception(error)
    else:
        job.future.set_result(result)


class SqliteStore:
    """The embedded store. `synchronous` is NORMAL (default) or FULL."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL", readers: int = 4) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self.path = path
        self.synchronous = synchronous
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._checkpointer = Checkpointer(lambda: _connect(self.path, self.synchronous))
        self.generation = 0
        """Counts committed write groups (raised before their callers resume): a value read
        while this is unchanged is still current (core.events.EventLog.session)."""

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(_connect, self.path, self.synchronous, writer=True)
        applied = await asyncio.to_thread(migrate, conn)
        if applied:
            log.info("store.migrated", path=str(self.path), applied=applied)
        self._checkpointer.start()
        self._writer = threading.Thread(
            target=self._write_loop, args=(conn,), name="sqlite-writer", daemon=True
        )
        self._writer.start()

    async def close(self) -> None:
        if self._writer is None:
            return
        self._jobs.put(None)
        await asyncio.to_thread(self._writer.join)
        self._writer = None
        await asyncio.to_thread(self._checkpointer.stop)
        self._readers.shutdown(wait=True)
        with self._conns_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        if self._writer is None:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put(_Job(fn, future, loop))
        return await future

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn)

    def _run_read(self, fn: Callable[[ReadTx], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, self.synchronous, readonly=True)
            self._local.conn = conn
            with self._conns_lock:
                self._reader_conns.append(conn)
        # One snapshot per read function: several SELECTs see the same committed state.
        conn.execute("BEGIN")
        try:
            return fn(SqliteReadTx(conn))
        finally:
            conn.execute("ROLLBACK")

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        tx = SqliteWriteTx(conn)
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                group = [first]
                stop = self._drain_into(group)
                self._commit_group(conn, tx, group)
                if stop:
                    return
        finally:
            conn.close()

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

    def _commit_group(self, conn: sqlite3.Connection, tx: SqliteWriteTx, group: list[_Job]) -> None:
        outcomes: list[tuple[Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in group:
                outcomes.append(self._run_in_savepoint(conn, tx, job))
            conn.execute("COMMIT")
            self.generation += 1
            self._checkpointer.committed()
        except sqlite3.Error as exc:
            log.error("store.commit_failed", error=str(exc), writes=len(group))
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            tx.cache.clear()
            failure = Unavailable("storage write failed")
            outcomes = [(None, failure)] * len(group)
        for job, (result, error) in zip(group, outcomes, strict=True):
            job.loop.call_soon_threadsafe(_resolve, job, result, error)

    @staticmethod
    def _run_in_savepoint(
        conn: sqlite3.Connection, tx: SqliteWriteTx, job: _Job
    ) -> tuple[Any, BaseException | None]:
        conn.execute("SAVEPOINT job")
        tx.cache.begin()
        try:
            result = job.fn(tx)
        except Exception as exc:  # one failed write is rolled back alone; the group goes on
            if not isinstance(exc, SessiondError):
                log.exception("store.write_failed")
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
            tx.cache.rollback()
            return None, exc
        conn.execute("RELEASE job")
        tx.cache.release()
        return result, None
