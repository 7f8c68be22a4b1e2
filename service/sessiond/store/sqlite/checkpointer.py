"""WAL checkpoints on a thread of their own, off the writer's commit path.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that
commit copies the WAL into the database file and syncs both, and every write waiting
behind it waits too (it made an average commit several times slower). The writer
connection turns it off; this thread checkpoints PASSIVE (never blocking the writer or
readers) when the writer has committed enough groups, or a second has passed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable

import structlog

log = structlog.get_logger(__name__)

COMMITS_PER_CHECKPOINT = 200
IDLE_CHECKPOINT_S = 1.0


class Checkpointer:
    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._due = threading.Event()
        self._stopping = False
        self._commits = 0
        self._dirty = False
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """Called after each group commit, under the store's group lock (one caller at a time)."""
        self._commits += 1
        self._dirty = True
        if self._commits >= COMMITS_PER_CHECKPOINT:
            self._commits = 0
            self._due.set()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping = True
        self._due.set()
        self._thread.join()
        self._thread = None

    def _loop(self) -> None:
        conn = self._connect()
        try:
            while not self._stopping:
                self._due.wait(IDLE_CHECKPOINT_S)
                self._due.clear()
                if self._stopping:
                    return
                if not self._dirty:
                    continue
                self._dirty = False
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # retried at the next turn
                    log.warning("store.checkpoint_failed", error=str(exc))
        finally:
            conn.close()
