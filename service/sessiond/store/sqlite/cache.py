"""The writer's memory of the rows it wrote or read: sessions, runs, transcript lengths,
event cursors.

Every Send and every run end reads back the session and the run it wrote a moment
before; decoding them from JSON again cost more than the SQL. The writer is the only
connection that changes the file, so what it wrote is what is stored, with one catch:
a write function that raises is rolled back alone (its savepoint), and a failed commit
rolls back the whole group. Each change made inside a write function is therefore
journaled and undone with its savepoint; a failed group forgets everything.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sessiond.domain.models import Run, Session

CACHE_LIMIT = 20_000
"""Entries per table; past it the tables start again empty (only the hot rows matter)."""

_MISSING: Any = object()


class WriterCache:
    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self.limit = limit
        self.sessions: dict[str, Session | None] = {}
        """By key; None: known not to exist. `message_count` is taken from `counts`."""
        self.runs: dict[str, Run] = {}
        self.counts: dict[str, int] = {}
        """message_count by transcript id (session_id); a known id's transcript exists."""
        self.heads: dict[str, int] = {}
        """The last event cursor by session key."""
        self._undo: list[tuple[dict[str, Any], str, Any]] = []
        self._journaling = False

    def put(self, table: dict[str, Any], key: str, value: Any) -> None:
        if len(table) >= self.limit:
            table.clear()
        if self._journaling:
            self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def drop(self, table: dict[str, Any], key: str) -> None:
        if key not in table:
            return
        if self._journaling:
            self._undo.append((table, key, table[key]))
        del table[key]

    def begin(self) -> None:
        """A write function starts (its savepoint)."""
        self._undo.clear()
        self._journaling = True

    def release(self) -> None:
        """The write function returned: its changes stay with the group."""
        self._undo.clear()
        self._journaling = False

    def rollback(self) -> None:
        """The write function raised: its savepoint was rolled back, so are its entries."""
        for table, key, old in reversed(self._undo):
            if old is _MISSING:
                table.pop(key, None)
            else:
                table[key] = old
        self.release()

    def clear(self) -> None:
        """The group's commit failed: nothing remembered can be trusted."""
        self.sessions.clear()
        self.runs.clear()
        self.counts.clear()
        self.heads.clear()
        self.release()

    def session(self, key: str) -> Session | None:
        """The remembered session; KeyError when it is not known (or its length is not)."""
        session = self.sessions[key]
        if session is None:
            return None
        count = self.counts.get(session.session_id)
        if count is None:
            raise KeyError(key)
        if count != session.message_count:
            # Derived from `counts`, which is journaled: no entry of its own.
            session = replace(session, message_count=count)
            self.sessions[key] = session
        return session
