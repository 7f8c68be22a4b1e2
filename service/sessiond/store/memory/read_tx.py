"""Queries of the in-memory store: the ReadTx implementation.

Each method answers what the same method of the SQLite store (`store/sqlite/tx.py`)
answers, in the same order; the comments name the SQL they stand for where it is not
obvious.
"""

from __future__ import annotations

import string
from bisect import bisect_right
from collections.abc import Iterable, Iterator

from sessiond.domain.events import Event
from sessiond.domain.models import (
    Archive,
    Checkpoint,
    Message,
    Run,
    RunLease,
    RunStatus,
    Session,
    Transcript,
    Usage,
    UsageEntry,
)
from sessiond.domain.tenants import in_namespace, namespace_of
from sessiond.store.base import RunWindow, SessionQuery
from sessiond.store.memory.tables import (
    RunRow,
    Tables,
    TranscriptRow,
    detached,
    detached_event,
)

# SQLite's lower() folds ASCII letters only.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_OPEN = (RunStatus.QUEUED, RunStatus.RUNNING)


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


def _archive(row: TranscriptRow) -> Archive:
    assert row.archived_at is not None
    return Archive(
        row.session_id, row.session_key, row.archive_reason, row.archived_at, row.message_count
    )


def _matches(session: Session, query: SessionQuery) -> bool:
    return (
        (not query.agent_id or session.agent_id == query.agent_id)
        and (
            not query.label_contains
            or _ascii_lower(query.label_contains) in _ascii_lower(session.label)
        )
        and (not query.parent_session_key or session.parent_session_key == query.parent_session_key)
        and (not query.active_only or session.active_run_id != "")
        and (not query.updated_after or session.updated_at > query.updated_after)
        and in_namespace(session.key, query.namespace)
    )


def _first(items: Iterable[Message], limit: int) -> list[Message]:
    taken: list[Message] = []
    for item in items:
        if len(taken) >= limit:
            break
        taken.append(item)
    return taken


class MemoryReadTx:
    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    def _session(self, session: Session) -> Session:
        count = self.tables.transcripts[session.session_id].message_count
        return detached(session, message_count=count)

    def get_session(self, key: str) -> Session | None:
        session = self.tables.sessions.get(key)
        return self._session(session) if session is not None else None

    def find_sessions_by_label(
        self, label: str, agent_id: str, namespace: str | None = None
    ) -> list[Session]:
        found = [
            s
            for s in self.tables.sessions.values()
            if s.label == label
            and (not agent_id or s.agent_id == agent_id)
            and in_namespace(s.key, namespace)
        ]
        return [self._session(s) for s in sorted(found, key=lambda s: s.key)]

    def count_sessions(self, namespace: str) -> int:
        return sum(1 for key in self.tables.sessions if namespace_of(key) == namespace)

    def list_sessions(
        self, query: SessionQuery, limit: int, after: tuple[int, str] | None
    ) -> list[Session]:
        rows = [
            s
            for s in self.tables.sessions.values()
            if _matches(s, query) and (after is None or (s.updated_at, s.key) < after)
        ]
        rows.sort(key=lambda s: (s.updated_at, s.key), reverse=True)
        return [self._session(s) for s in rows[:limit]]

    def get_transcript(self, session_id: str) -> Transcript | None:
        row = self.tables.transcripts.get(session_id)
        if row is None:
            return None
        return Transcript(row.session_id, row.session_key, row.archived_at is not None)

    def list_messages(
        self,
        session_id: str,
        *,
        limit: int,
        before_seq: int = 0,
        after_seq: int = 0,
        include_silent: bool = False,
        newest_first: bool = False,
    ) -> list[Message]:
        messages = self.tables.messages.get(session_id, [])
        start = bisect_right(messages, after_seq, key=lambda m: m.seq)
        end = bisect_right(messages, before_seq - 1, key=lambda m: m.seq) if before_seq else None
        window = messages[start:end]
        ordered: Iterator[Message] = reversed(window) if newest_first else iter(window)
        if not include_silent:
            ordered = (m for m in ordered if not m.silent)
        return _first(ordered, limit)

    def list_archives(
        self,
        session_key: str,
        limit: int,
        after: tuple[int, str] | None,
        namespace: str | None = None,
    ) -> list[Archive]:
        rows = [
            r
            for r in self.tables.transcripts.values()
            if r.archived_at is not None
            and (not session_key or r.session_key == session_key)
            and in_namespace(r.session_key, namespace)
            and (after is None or (r.archived_at, r.session_id) < after)
        ]
        rows.sort(key=lambda r: (r.archived_at or 0, r.session_id), reverse=True)
        return [_archive(r) for r in rows[:limit]]

    def events_after(self, session_key: str, after_cursor: int, limit: int) -> list[Event]:
        events = self.tables.events_of_key.get(session_key, [])
        start = bisect_right(events, after_cursor, key=lambda e: e.cursor)
        return [detached_event(e) for e in events[start : start + limit]]

    def feed_after(self, after_global_seq: int, limit: int) -> list[Event]:
        events = self.tables.events
        start = bisect_right(events, after_global_seq, key=lambda e: e.global_seq)
        return [detached_event(e) for e in events[start : start + limit]]

    def oldest_cursor(self, session_key: str) -> int:
        events = self.tables.events_of_key.get(session_key)
        return events[0].cursor if events else 0

    def head_cursor(self, session_key: str) -> int:
        return self.tables.heads.get(session_key, 0)

    def oldest_global_seq(self) -> int:
        return self.tables.events[0].global_seq if self.tables.events else 0

    def head_global_seq(self) -> int:
        return self.tables.last_global_seq

    def get_run(self, run_id: str) -> Run | None:
        row = self.tables.runs.get(run_id)
        return row.run if row is not None else None

    def _runs_of(self, session_key: str) -> list[RunRow]:
        return [self.tables.runs[r] for r in self.tables.runs_of_key.get(session_key, [])]

    def list_runs(
        self, session_key: str, status: RunStatus | None, limit: int, offset: int
    ) -> list[Run]:
        rows = [r for r in self._runs_of(session_key) if status is None or r.run.status is status]
        # ORDER BY created_at DESC, rowid DESC
        rows.sort(key=lambda r: (r.created_at, r.order), reverse=True)
        return [r.run for r in rows[offset : offset + limit]]

    def count_runs(self, session_key: str, status: RunStatus) -> int:
        return sum(1 for r in self._runs_of(session_key) if r.run.status is status)

    def find_run_by_idempotency(
        self, session_key: str, scope: str, idempotency_key: str
    ) -> Run | None:
        run_id = self.tables.idempotency.get((session_key, scope, idempotency_key))
        return self.tables.runs[run_id].run if run_id is not None else None

    def next_queued_run(self, session_key: str) -> Run | None:
        queued = [r for r in self._runs_of(session_key) if r.run.status is RunStatus.QUEUED]
        # ORDER BY priority DESC, created_at, rowid
        queued.sort(key=lambda r: (-r.run.priority, r.created_at, r.order))
        return queued[0].run if queued else None

    def open_runs(self) -> list[Run]:
        rows = [r for r in self.tables.runs.values() if r.run.status in _OPEN]
        rows.sort(key=lambda r: (r.created_at, r.order))
        return [r.run for r in rows]

    def count_namespace_runs(self, namespace: str, status: RunStatus) -> int:
        return sum(
            1
            for r in self.tables.runs.values()
            if r.run.status is status and namespace_of(r.session_key) == namespace
        )

    def runs_created_since(self, namespace: str, since: int) -> RunWindow:
        times = [
            r.created_at
            for r in self.tables.runs.values()
            if r.created_at >= since and namespace_of(r.session_key) == namespace
        ]
        return RunWindow(len(times), min(times, default=0))

    def last_seq(self, session_id: str) -> int:
        row = self.tables.transcripts.get(session_id)
        return row.message_count if row is not None else 0

    def list_checkpoints(self, session_key: str) -> list[Checkpoint]:
        rows = [
            r for r in self.tables.checkpoints.values() if r.checkpoint.session_key == session_key
        ]
        rows.sort(key=lambda r: (r.checkpoint.created_at, r.order), reverse=True)
        return [r.checkpoint for r in rows]

    def get_checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        row = self.tables.checkpoints.get(checkpoint_id)
        return row.checkpoint if row is not None else None

    def archives_before(self, archived_before: int, namespace: str | None = None) -> list[Archive]:
        """Archived transcripts older than the time and not preserved by a checkpoint."""
        preserved = {r.checkpoint.session_id for r in self.tables.checkpoints.values()}
        rows = [
            r
            for r in self.tables.transcripts.values()
            if r.archived_at is not None
            and r.archived_at < archived_before
            and r.session_id not in preserved
            and in_namespace(r.session_key, namespace)
        ]
        rows.sort(key=lambda r: (r.archived_at or 0, r.session_id))
        return [_archive(r) for r in rows]

    def get_lease(self, run_id: str) -> RunLease | None:
        return self.tables.leases.get(run_id)

    def expired_leases(self, now: int, limit: int) -> list[RunLease]:
        expired = [lease for lease in self.tables.leases.values() if lease.expires_at < now]
        expired.sort(key=lambda lease: lease.expires_at)
        return expired[:limit]

    def usage_entries(self, namespace: str | None, start: int, end: int) -> list[UsageEntry]:
        found = [
            e
            for e in self.tables.usage.values()
            if start <= e.hour < end and (namespace is None or e.namespace == namespace)
        ]
        found.sort(key=lambda e: (e.hour, e.namespace, e.agent_id, e.model))
        return found

    def usage_total(self, namespace: str, since: int) -> Usage:
        total = Usage()
        for entry in self.tables.usage.values():
            if entry.namespace == namespace and entry.hour >= since:
                total = total.plus(entry.usage)
        return total
