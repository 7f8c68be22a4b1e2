"""The in-memory store: the Store contract without a file, for tests and development.

Everything runs on the event loop's thread, one function at a time, so each write is its
own transaction and each read sees the latest committed state. A write function that
raises is undone by its journal (`write_tx.py`) and its exception reaches its caller
only. Nothing is persisted: a new store starts empty.

`read` and `write` yield to the loop once before running their function, as a store that
runs them on another thread does; callers cannot come to rely on a store that never
lets other tasks in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import structlog
from sessiond.domain.errors import SessiondError, Unavailable
from sessiond.domain.models import Session
from sessiond.store.base import ReadTx, WriteTx
from sessiond.store.memory.read_tx import MemoryReadTx
from sessiond.store.memory.tables import Tables
from sessiond.store.memory.write_tx import MemoryWriteTx

T = TypeVar("T")
log = structlog.get_logger(__name__)


class MemoryStore:
    def __init__(self) -> None:
        self._tables = Tables()
        self._open = False

    async def open(self) -> None:
        self._open = True

    async def close(self) -> None:
        """From here on reads and writes are UNAVAILABLE (the data stays until reopened)."""
        self._open = False

    def _check_open(self) -> None:
        if not self._open:
            raise Unavailable("store is closed")

    async def read(self, fn: Callable[[ReadTx], T]) -> T:
        self._check_open()
        await asyncio.sleep(0)
        return fn(MemoryReadTx(self._tables))

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        self._check_open()
        # A write made before `close` still commits, as a queued one does in SQLite.
        await asyncio.sleep(0)
        tx = MemoryWriteTx(self._tables)
        try:
            return fn(tx)
        except BaseException as exc:
            tx.rollback()
            if isinstance(exc, Exception) and not isinstance(exc, SessiondError):
                log.exception("store.write_failed")
            raise

    async def session(self, key: str) -> Session | None:
        return await self.read(lambda tx: tx.get_session(key))
