"""SQLite store: one writer thread that group-commits, reader threads, WAL.

While the load is light (recent loop turns that wrote had about one task writing), the
short writes (`short_writes.py`: a Send, a run's start or end) of a turn's first writing
task commit right there on the loop if the writer thread has nothing of this loop's: that
saves two thread hops and their GIL hand-offs, about a fifth of a quiet Send's server CPU.
Other writes go to the writer thread, which group-commits them while the loop serves
other calls (committing a busy loop's writes on the loop measured slower; a long write
there, an archive or a cleanup, would hold every stream of the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import structlog
from sessiond.domain.errors import SessiondError, Unavailable
from sessiond.domain.models import Session
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.sqlite.checkpointer import Checkpointer
from sessiond.store.sqlite.migrations import migrate
from sessiond.store.sqlite.short_writes import ShortWrites, write_kind
from sessiond.store.sqlite.tx import SqliteReadTx
from sessiond.store.sqlite.write_tx import SqliteWriteTx
from sessiond.store.write_queue import Job, Jobs, Outcome, failed, take_group

T = TypeVar("T")
log = structlog.get_logger(__name__)

BUSY_TIMEOUT_MS = 5000
LONE_WRITER = 1.1
"""Writes commit on the loop while recent turns averaged fewer writing tasks than this."""
TURN_WEIGHT = 0.1
"""The weight of the newest turn in that average (about the last ten turns count)."""


SESSION_CACHE = 4096


def _connect(
    path: Path, synchronous: str, *, readonly: bool = False, writer: bool = False
) -> sqlite3.Connection:
    uri = f"file:{path}{'?mode=ro' if readonly else ''}"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    if writer:
        conn.execute("PRAGMA wal_autocheckpoint = 0")  # the Checkpointer's job
    return conn


def _begin_at_once(conn: sqlite3.Connection) -> bool:
    """BEGIN IMMEDIATE without waiting: False when another connection (another process)
    holds the write lock, or beginning failed; the writer thread then waits or reports."""
    try:
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            conn.execute("BEGIN IMMEDIATE")
        finally:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except sqlite3.Error:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")  # begun, but the timeout was not restored
        return False
    return True


class SqliteStore:
    """The embedded store. `synchronous` is NORMAL (default) or FULL."""

    def __init__(self, path: Path, *, synchronous: str = "NORMAL", readers: int = 4) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError("synchronous must be NORMAL or FULL")
        self.path = path
        self.synchronous = synchronous
        self._jobs: Jobs = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._write_tx: SqliteWriteTx | None = None
        self._group_lock = threading.Lock()
        """Held while a group runs: by the writer thread, or by the loop for its write."""
        self._turn_open = False
        """A write was made in the current loop turn (`_end_turn` is scheduled)."""
        self._turn_task: asyncio.Task[Any] | None = None
        """The first task that wrote in the current loop turn."""
        self._turn_writers = 0
        """Tasks that wrote in the current loop turn (`_end_turn` averages and resets it)."""
        self._writers_per_turn = 1.0
        self._with_writer = 0
        """Writes handed to the writer thread and not yet resolved (loop thread only)."""
        self._readers = ThreadPoolExecutor(readers, thread_name_prefix="sqlite-read")
        self._local = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._checkpointer = Checkpointer(lambda: _connect(self.path, self.synchronous))
        self.short_writes = ShortWrites()
        """What the store learned of its write functions (which are short)."""
        self._generation = 0
        """Counts committed write groups (raised before their callers resume): this process
        is the file's only writer, so a value read while this is unchanged is current."""
        self._sessions: dict[str, tuple[int, Session]] = {}

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = await asyncio.to_thread(_connect, self.path, self.synchronous, writer=True)
        applied = await asyncio.to_thread(migrate, conn)
        if applied:
            log.info("store.migrated", path=str(self.path), applied=applied)
        self._checkpointer.start()
        self._write_tx = SqliteWriteTx(conn)
        self._writer = threading.Thread(
            target=self._write_loop, args=(conn, self._write_tx), name="sqlite-writer", daemon=True
        )
        self._writer.start()

    async def close(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None  # from here on a write is UNAVAILABLE
        self._jobs.put(None)
        await asyncio.to_thread(writer.join)
        await asyncio.to_thread(self._checkpointer.stop)
        self._readers.shutdown(wait=True)
        with self._conns_lock:
            for conn in self._reader_conns:
                conn.close()
            self._reader_conns.clear()

    async def session(self, key: str) -> Session | None:
        """A session read while no write has committed since is answered from memory: a
        polled GetSession skips the reader thread and the query. Any commit, of any
        session, makes every remembered one stale."""
        generation = self._generation
        hit = self._sessions.get(key)
        if hit is not None and hit[0] == generation:
            return hit[1]
        session = await self.read(lambda tx: tx.get_session(key))
        if session is not None:
            if len(self._sessions) >= SESSION_CACHE:
                self._sessions.clear()
            self._sessions[key] = (generation, session)
        return session

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        if self._writer is None:
            raise Unavailable("store is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        job = Job(fn, future, write_kind(fn))
        if (
            self._lone_writer(loop)
            and self.short_writes.is_short(job.kind)
            and self._commit_here(job)
        ):
            return await future
        self._with_writer += 1
        self._jobs.put(job)
        return await future

    def _lone_writer(self, loop: asyncio.AbstractEventLoop) -> bool:
        """Counts the calling task among this turn's writers; True when it is the turn's
        first while recent turns had about one (a task's writes in a row, with no await
        between, stay in one turn: an awaited write that is done does not yield)."""
        task = asyncio.current_task(loop)
        if not self._turn_open:
            self._turn_open = True
            self._turn_task = task
            self._turn_writers = 1
            loop.call_soon(self._end_turn)
        elif task is not self._turn_task:
            self._turn_writers += 1
            return False
        return self._writers_per_turn < LONE_WRITER

    def _end_turn(self) -> None:
        self._writers_per_turn += (self._turn_writers - self._writers_per_turn) * TURN_WEIGHT
        self._turn_open = False
        self._turn_task = None

    def _commit_here(self, job: Job) -> bool:
        """Commits `job` on the loop when the writer has nothing of this loop's (so writes
        still commit in the order they were made) and the write lock is free at once."""
        tx = self._write_tx
        if tx is None or self._with_writer or not self._group_lock.acquire(blocking=False):
            return False
        try:
            if not _begin_at_once(tx.conn):
                return False
            outcomes = self._run_group(tx.conn, tx, [job])
        finally:
            self._group_lock.release()
        for result, error in outcomes:
            job.resolve(result, error)
        return True

    def _resolve_from_writer(self, job: Job, result: Any, error: BaseException | None) -> None:
        self._with_writer -= 1
        job.resolve(result, error)

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

    def _write_loop(self, conn: sqlite3.Connection, tx: SqliteWriteTx) -> None:
        try:
            while True:
                first = self._jobs.get()
                if first is None:
                    return
                group = [first]
                stop = take_group(self._jobs, group)
                with self._group_lock:
                    outcomes = self._commit_group(conn, tx, group)
                # Only now: a caller that resumes finds the writer's lock free.
                for job, (result, error) in zip(group, outcomes, strict=True):
                    loop = job.future.get_loop()
                    loop.call_soon_threadsafe(self._resolve_from_writer, job, result, error)
                if stop:
                    return
        finally:
            conn.close()

    def _commit_group(
        self, conn: sqlite3.Connection, tx: SqliteWriteTx, group: list[Job]
    ) -> list[Outcome]:
        """On the writer thread: begins (waiting up to the busy timeout) and runs `group`."""
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            return failed(group, exc)
        return self._run_group(conn, tx, group)

    def _run_group(
        self, conn: sqlite3.Connection, tx: SqliteWriteTx, group: list[Job]
    ) -> list[Outcome]:
        """Runs `group` in the transaction begun and commits: each job's outcome."""
        outcomes: list[Outcome] = []
        try:
            for job in group:
                outcomes.append(self._run_in_savepoint(conn, tx, job))
            conn.execute("COMMIT")
            self._generation += 1
            self._checkpointer.committed()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            tx.cache.clear()
            return failed(group, exc)
        return outcomes

    def _run_in_savepoint(self, conn: sqlite3.Connection, tx: SqliteWriteTx, job: Job) -> Outcome:
        conn.execute("SAVEPOINT job")
        tx.cache.begin()
        started = time.perf_counter()
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
        self.short_writes.took(job.kind, time.perf_counter() - started)
        return result, None
