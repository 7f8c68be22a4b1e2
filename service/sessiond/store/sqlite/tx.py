"""SQL of reader connections: the ReadTx implementation of the SQLite store."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson
from sessiond.domain import codec
from sessiond.domain.events import Event, EventKind
from sessiond.domain.models import (
    Archive,
    Checkpoint,
    Message,
    Run,
    RunLease,
    RunStatus,
    Session,
    SessionEventReason,
    Transcript,
    Usage,
    UsageEntry,
)
from sessiond.store.base import RunWindow, SessionQuery

_SESSION_COLUMNS = "s.data, t.message_count FROM sessions s JOIN transcripts t USING (session_id)"
_LEASE_COLUMNS = "run_id, session_key, owner, epoch, expires_at FROM run_leases"
_EVENT_COLUMNS = "global_seq, session_key, cursor, kind, ts, run_id, reason, payload FROM events"
_ARCHIVE_COLUMNS = "session_id, session_key, archive_reason, archived_at, message_count"
_USAGE_SUMS = "sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(cost_usd)"


def dumps(data: Any) -> str:
    """Compact JSON text (orjson: records and payloads are encoded on every write)."""
    return orjson.dumps(data).decode()


loads = orjson.loads


def _session(row: sqlite3.Row) -> Session:
    data = loads(row[0])
    data["message_count"] = row[1]  # the transcript's, not the stored copy's
    return codec.session_from_dict(data)


def session_data(session: Session) -> str:
    # orjson encodes the dataclass as session_to_dict would, without building the dict.
    return dumps(session)


def _event(row: sqlite3.Row) -> Event:
    body, session = codec.event_from_payload(EventKind(row[3]), loads(row[7]))
    return Event(
        global_seq=row[0],
        session_key=row[1],
        cursor=row[2],
        ts=row[4],
        body=body,
        run_id=row[5],
        reason=SessionEventReason(row[6]) if row[6] else None,
        session=session,
    )


class SqliteReadTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def get_session(self, key: str) -> Session | None:
        row = self._one(f"SELECT {_SESSION_COLUMNS} WHERE s.key = ?", (key,))
        return _session(row) if row else None

    def find_sessions_by_label(
        self, label: str, agent_id: str, namespace: str | None = None
    ) -> list[Session]:
        sql = f"SELECT {_SESSION_COLUMNS} WHERE s.label = ?"
        params: tuple[Any, ...] = (label,)
        if agent_id:
            sql += " AND s.agent_id = ?"
            params += (agent_id,)
        if namespace is not None:
            sql += " AND s.namespace = ?"
            params += (namespace,)
        return [_session(r) for r in self.conn.execute(sql + " ORDER BY s.key", params)]

    def count_sessions(self, namespace: str) -> int:
        row = self._one("SELECT count(*) FROM sessions WHERE namespace = ?", (namespace,))
        return int(row[0])

    def list_sessions(
        self, query: SessionQuery, limit: int, after: tuple[int, str] | None
    ) -> list[Session]:
        clauses: list[str] = []
        params: list[Any] = []
        if after is not None:
            clauses.append("(s.updated_at, s.key) < (?, ?)")
            params += list(after)
        if query.agent_id:
            clauses.append("s.agent_id = ?")
            params.append(query.agent_id)
        if query.label_contains:
            clauses.append("instr(lower(s.label), lower(?)) > 0")
            params.append(query.label_contains)
        if query.parent_session_key:
            clauses.append("s.parent_session_key = ?")
            params.append(query.parent_session_key)
        if query.active_only:
            clauses.append("s.active_run_id != ''")
        if query.updated_after:
            clauses.append("s.updated_at > ?")
            params.append(query.updated_after)
        if query.namespace is not None:
            clauses.append("s.namespace = ?")
            params.append(query.namespace)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_SESSION_COLUMNS} {where} ORDER BY s.updated_at DESC, s.key DESC LIMIT ?"
        return [_session(r) for r in self.conn.execute(sql, (*params, limit))]

    def get_transcript(self, session_id: str) -> Transcript | None:
        row = self._one(
            "SELECT session_id, session_key, archived_at FROM transcripts WHERE session_id = ?",
            (session_id,),
        )
        return Transcript(row[0], row[1], row[2] is not None) if row else None

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
        sql = "SELECT data FROM messages WHERE session_id = ? AND seq > ?"
        params: list[Any] = [session_id, after_seq]
        if before_seq:
            sql += " AND seq < ?"
            params.append(before_seq)
        if not include_silent:
            sql += " AND silent = 0"
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT ?"
        rows = self.conn.execute(sql, (*params, limit))
        return [codec.message_from_dict(loads(r[0])) for r in rows]

    def list_archives(
        self,
        session_key: str,
        limit: int,
        after: tuple[int, str] | None,
        namespace: str | None = None,
    ) -> list[Archive]:
        sql = f"SELECT {_ARCHIVE_COLUMNS} FROM transcripts WHERE archived_at IS NOT NULL"
        params: list[Any] = []
        if session_key:
            sql += " AND session_key = ?"
            params.append(session_key)
        if namespace is not None:
            sql += " AND namespace = ?"
            params.append(namespace)
        if after is not None:
            sql += " AND (archived_at, session_id) < (?, ?)"
            params += list(after)
        sql += " ORDER BY archived_at DESC, session_id DESC LIMIT ?"
        return [Archive(*r) for r in self.conn.execute(sql, (*params, limit))]

    def events_after(self, session_key: str, after_cursor: int, limit: int) -> list[Event]:
        sql = (
            f"SELECT {_EVENT_COLUMNS} WHERE session_key = ? AND cursor > ? ORDER BY cursor LIMIT ?"
        )
        return [_event(r) for r in self.conn.execute(sql, (session_key, after_cursor, limit))]

    def feed_after(self, after_global_seq: int, limit: int) -> list[Event]:
        sql = f"SELECT {_EVENT_COLUMNS} WHERE global_seq > ? ORDER BY global_seq LIMIT ?"
        return [_event(r) for r in self.conn.execute(sql, (after_global_seq, limit))]

    def oldest_cursor(self, session_key: str) -> int:
        row = self._one("SELECT min(cursor) FROM events WHERE session_key = ?", (session_key,))
        return int(row[0] or 0)

    def head_cursor(self, session_key: str) -> int:
        row = self._one("SELECT last_cursor FROM event_heads WHERE session_key = ?", (session_key,))
        return int(row[0]) if row else 0

    def oldest_global_seq(self) -> int:
        row = self._one("SELECT min(global_seq) FROM events")
        return int(row[0] or 0)

    def head_global_seq(self) -> int:
        # AUTOINCREMENT's counter, not max(): it stays put when old events are pruned.
        row = self._one("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(row[0]) if row else 0

    def get_run(self, run_id: str) -> Run | None:
        row = self._one("SELECT data FROM runs WHERE run_id = ?", (run_id,))
        return codec.run_from_dict(loads(row[0])) if row else None

    def list_runs(
        self, session_key: str, status: RunStatus | None, limit: int, offset: int
    ) -> list[Run]:
        sql = "SELECT data FROM runs WHERE session_key = ?"
        params: list[Any] = [session_key]
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?"
        rows = self.conn.execute(sql, (*params, limit, offset))
        return [codec.run_from_dict(loads(r[0])) for r in rows]

    def count_runs(self, session_key: str, status: RunStatus) -> int:
        sql = "SELECT count(*) FROM runs WHERE session_key = ? AND status = ?"
        return int(self._one(sql, (session_key, status.value))[0])

    def _runs(self, sql: str, params: tuple[Any, ...]) -> list[Run]:
        return [codec.run_from_dict(loads(r[0])) for r in self.conn.execute(sql, params)]

    def find_run_by_idempotency(
        self, session_key: str, scope: str, idempotency_key: str
    ) -> Run | None:
        rows = self._runs(
            # The != '' lets SQLite use the partial unique index (runs_idempotency).
            "SELECT data FROM runs WHERE session_key = ? AND scope = ? AND idempotency_key = ?"
            " AND idempotency_key != ''",
            (session_key, scope, idempotency_key),
        )
        return rows[0] if rows else None

    def next_queued_run(self, session_key: str) -> Run | None:
        rows = self._runs(
            "SELECT data FROM runs WHERE session_key = ? AND status = 'queued'"
            " ORDER BY json_extract(data, '$.priority') DESC, created_at, rowid LIMIT 1",
            (session_key,),
        )
        return rows[0] if rows else None

    def open_runs(self) -> list[Run]:
        return self._runs(
            "SELECT data FROM runs WHERE status IN ('queued', 'running')"
            " ORDER BY created_at, rowid",
            (),
        )

    def count_namespace_runs(self, namespace: str, status: RunStatus) -> int:
        row = self._one(
            "SELECT count(*) FROM runs WHERE namespace = ? AND status = ?"
            " AND status IN ('queued', 'running')",  # lets SQLite use runs_namespace_open
            (namespace, status.value),
        )
        return int(row[0])

    def runs_created_since(self, namespace: str, since: int) -> RunWindow:
        row = self._one(
            "SELECT count(*), min(created_at) FROM runs WHERE namespace = ? AND created_at >= ?",
            (namespace, since),
        )
        return RunWindow(int(row[0]), int(row[1] or 0))

    def last_seq(self, session_id: str) -> int:
        row = self._one("SELECT message_count FROM transcripts WHERE session_id = ?", (session_id,))
        return int(row[0]) if row else 0

    def list_checkpoints(self, session_key: str) -> list[Checkpoint]:
        rows = self.conn.execute(
            "SELECT data FROM checkpoints WHERE session_key = ?"
            " ORDER BY created_at DESC, rowid DESC",
            (session_key,),
        )
        return [codec.checkpoint_from_dict(loads(r[0])) for r in rows]

    def get_checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        row = self._one("SELECT data FROM checkpoints WHERE checkpoint_id = ?", (checkpoint_id,))
        return codec.checkpoint_from_dict(loads(row[0])) if row else None

    def archives_before(self, archived_before: int, namespace: str | None = None) -> list[Archive]:
        """Archived transcripts older than the time and not preserved by a checkpoint."""
        sql = (
            f"SELECT {_ARCHIVE_COLUMNS} FROM transcripts t"
            " WHERE archived_at IS NOT NULL AND archived_at < ?"
            " AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.session_id = t.session_id)"
        )
        params: tuple[Any, ...] = (archived_before,)
        if namespace is not None:
            sql += " AND namespace = ?"
            params += (namespace,)
        return [Archive(*r) for r in self.conn.execute(sql + " ORDER BY archived_at", params)]

    def get_lease(self, run_id: str) -> RunLease | None:
        row = self._one(f"SELECT {_LEASE_COLUMNS} WHERE run_id = ?", (run_id,))
        return RunLease(*row) if row else None

    def expired_leases(self, now: int, limit: int) -> list[RunLease]:
        sql = f"SELECT {_LEASE_COLUMNS} WHERE expires_at < ? ORDER BY expires_at LIMIT ?"
        return [RunLease(*r) for r in self.conn.execute(sql, (now, limit))]

    def usage_entries(self, namespace: str | None, start: int, end: int) -> list[UsageEntry]:
        sql = (
            "SELECT namespace, agent_id, model, hour, runs, input_tokens, output_tokens,"
            " total_tokens, cost_usd FROM usage WHERE hour >= ? AND hour < ?"
        )
        params: tuple[Any, ...] = (start, end)
        if namespace is not None:
            sql += " AND namespace = ?"
            params += (namespace,)
        sql += " ORDER BY hour, namespace, agent_id, model"
        return [
            UsageEntry(r[0], r[1], r[2], r[3], r[4], Usage(r[5], r[6], r[7], 0, r[8]))
            for r in self.conn.execute(sql, params)
        ]

    def usage_total(self, namespace: str, since: int) -> Usage:
        row = self._one(
            f"SELECT {_USAGE_SUMS} FROM usage WHERE namespace = ? AND hour >= ?",
            (namespace, since),
        )
        return Usage(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), 0, float(row[3] or 0))
