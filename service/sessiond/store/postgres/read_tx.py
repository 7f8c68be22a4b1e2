"""SQL of reads: the ReadTx implementation of the PostgreSQL store.

Records are stored as `json` and decoded by `domain.codec`; the connection's json loader
is orjson (store.py configures every pooled connection), so a `data` column arrives as a
dict.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import psycopg
from psycopg.abc import Params
from psycopg.rows import TupleRow
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

Connection: TypeAlias = psycopg.Connection[TupleRow]

_SESSION_COLUMNS = "s.data, t.message_count FROM sessions s JOIN transcripts t USING (session_id)"
_EVENT_COLUMNS = "global_seq, session_key, cursor, kind, ts, run_id, reason, payload FROM events"
_LEASE_COLUMNS = "run_id, session_key, owner, epoch, expires_at FROM run_leases"
_ARCHIVE_COLUMNS = "session_id, session_key, archive_reason, archived_at, message_count"
_USAGE_SUMS = "sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(cost_usd)"


def _session(row: TupleRow) -> Session:
    data = row[0]
    data["message_count"] = row[1]  # the transcript's, not the stored copy's
    return codec.session_from_dict(data)


def _message(row: TupleRow) -> Message:
    data = row[1]
    data["seq"] = row[0]  # assigned by the insert: it lives in its column
    return codec.message_from_dict(data)


def _event(row: TupleRow) -> Event:
    body, session = codec.event_from_payload(EventKind(row[3]), row[7])
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


def _archive(row: TupleRow) -> Archive:
    return Archive(row[0], row[1], row[2], row[3], row[4])


class PostgresReadTx:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, params: Params = ()) -> TupleRow | None:
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Params = ()) -> list[TupleRow]:
        return self.conn.execute(sql, params).fetchall()

    def _count(self, sql: str, params: Params) -> int:
        row = self._one(sql, params)
        return int(row[0]) if row is not None and row[0] is not None else 0

    def get_session(self, key: str) -> Session | None:
        row = self._one(f"SELECT {_SESSION_COLUMNS} WHERE s.key = %s", (key,))
        return _session(row) if row else None

    def find_sessions_by_label(
        self, label: str, agent_id: str, namespace: str | None = None
    ) -> list[Session]:
        sql = f"SELECT {_SESSION_COLUMNS} WHERE s.label = %s"
        params: tuple[Any, ...] = (label,)
        if agent_id:
            sql += " AND s.agent_id = %s"
            params += (agent_id,)
        if namespace is not None:
            sql += " AND s.namespace = %s"
            params += (namespace,)
        return [_session(r) for r in self._all(sql + " ORDER BY s.key", params)]

    def count_sessions(self, namespace: str) -> int:
        return self._count("SELECT count(*) FROM sessions WHERE namespace = %s", (namespace,))

    def list_sessions(
        self, query: SessionQuery, limit: int, after: tuple[int, str] | None
    ) -> list[Session]:
        clauses: list[str] = []
        params: list[Any] = []
        if after is not None:
            clauses.append("(s.updated_at, s.key) < (%s, %s)")
            params += list(after)
        if query.agent_id:
            clauses.append("s.agent_id = %s")
            params.append(query.agent_id)
        if query.label_contains:
            clauses.append("strpos(lower(s.label), lower(%s)) > 0")
            params.append(query.label_contains)
        if query.parent_session_key:
            clauses.append("s.parent_session_key = %s")
            params.append(query.parent_session_key)
        if query.active_only:
            clauses.append("s.active_run_id <> ''")
        if query.updated_after:
            clauses.append("s.updated_at > %s")
            params.append(query.updated_after)
        if query.namespace is not None:
            clauses.append("s.namespace = %s")
            params.append(query.namespace)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_SESSION_COLUMNS} {where} ORDER BY s.updated_at DESC, s.key DESC LIMIT %s"
        return [_session(r) for r in self._all(sql, [*params, limit])]

    def get_transcript(self, session_id: str) -> Transcript | None:
        row = self._one(
            "SELECT session_id, session_key, archived_at FROM transcripts WHERE session_id = %s",
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
        sql = "SELECT seq, data FROM messages WHERE session_id = %s AND seq > %s"
        params: list[Any] = [session_id, after_seq]
        if before_seq:
            sql += " AND seq < %s"
            params.append(before_seq)
        if not include_silent:
            sql += " AND NOT silent"
        sql += f" ORDER BY seq {'DESC' if newest_first else 'ASC'} LIMIT %s"
        return [_message(r) for r in self._all(sql, [*params, limit])]

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
            sql += " AND session_key = %s"
            params.append(session_key)
        if namespace is not None:
            sql += " AND namespace = %s"
            params.append(namespace)
        if after is not None:
            sql += " AND (archived_at, session_id) < (%s, %s)"
            params += list(after)
        sql += " ORDER BY archived_at DESC, session_id DESC LIMIT %s"
        return [_archive(r) for r in self._all(sql, [*params, limit])]

    def events_after(self, session_key: str, after_cursor: int, limit: int) -> list[Event]:
        sql = (
            f"SELECT {_EVENT_COLUMNS} WHERE session_key = %s AND cursor > %s"
            " ORDER BY cursor LIMIT %s"
        )
        return [_event(r) for r in self._all(sql, (session_key, after_cursor, limit))]

    def feed_after(self, after_global_seq: int, limit: int) -> list[Event]:
        sql = f"SELECT {_EVENT_COLUMNS} WHERE global_seq > %s ORDER BY global_seq LIMIT %s"
        return [_event(r) for r in self._all(sql, (after_global_seq, limit))]

    def oldest_cursor(self, session_key: str) -> int:
        return self._count("SELECT min(cursor) FROM events WHERE session_key = %s", (session_key,))

    def head_cursor(self, session_key: str) -> int:
        return self._count(
            "SELECT last_cursor FROM event_heads WHERE session_key = %s", (session_key,)
        )

    def oldest_global_seq(self) -> int:
        return self._count("SELECT min(global_seq) FROM events", ())

    def head_global_seq(self) -> int:
        # The head row, not max(): it stays put when old events are pruned.
        return self._count("SELECT last_global_seq FROM event_feed_head", ())

    def _runs(self, sql: str, params: Params) -> list[Run]:
        return [codec.run_from_dict(r[0]) for r in self._all(sql, params)]

    def get_run(self, run_id: str) -> Run | None:
        runs = self._runs("SELECT data FROM runs WHERE run_id = %s", (run_id,))
        return runs[0] if runs else None

    def list_runs(
        self, session_key: str, status: RunStatus | None, limit: int, offset: int
    ) -> list[Run]:
        sql = "SELECT data FROM runs WHERE session_key = %s"
        params: list[Any] = [session_key]
        if status is not None:
            sql += " AND status = %s"
            params.append(status.value)
        sql += " ORDER BY created_at DESC, row_order DESC LIMIT %s OFFSET %s"
        return self._runs(sql, [*params, limit, offset])

    def count_runs(self, session_key: str, status: RunStatus) -> int:
        sql = "SELECT count(*) FROM runs WHERE session_key = %s AND status = %s"
        return self._count(sql, (session_key, status.value))

    def find_run_by_idempotency(
        self, session_key: str, scope: str, idempotency_key: str
    ) -> Run | None:
        runs = self._runs(
            # The <> '' lets the planner use the partial unique index (runs_idempotency).
            "SELECT data FROM runs WHERE session_key = %s AND scope = %s"
            " AND idempotency_key = %s AND idempotency_key <> ''",
            (session_key, scope, idempotency_key),
        )
        return runs[0] if runs else None

    def next_queued_run(self, session_key: str) -> Run | None:
        runs = self._runs(
            "SELECT data FROM runs WHERE session_key = %s AND status = 'queued'"
            " ORDER BY priority DESC, created_at, row_order LIMIT 1",
            (session_key,),
        )
        return runs[0] if runs else None

    def open_runs(self) -> list[Run]:
        return self._runs(
            "SELECT data FROM runs WHERE status IN ('queued', 'running')"
            " ORDER BY created_at, row_order",
            (),
        )

    def count_namespace_runs(self, namespace: str, status: RunStatus) -> int:
        return self._count(
            "SELECT count(*) FROM runs WHERE namespace = %s AND status = %s"
            " AND status IN ('queued', 'running')",  # lets the planner use runs_namespace_open
            (namespace, status.value),
        )

    def runs_created_since(self, namespace: str, since: int) -> RunWindow:
        row = self._one(
            "SELECT count(*), min(created_at) FROM runs WHERE namespace = %s AND created_at >= %s",
            (namespace, since),
        )
        assert row is not None  # an aggregate always yields a row
        return RunWindow(int(row[0]), int(row[1] or 0))

    def last_seq(self, session_id: str) -> int:
        return self._count(
            "SELECT message_count FROM transcripts WHERE session_id = %s", (session_id,)
        )

    def list_checkpoints(self, session_key: str) -> list[Checkpoint]:
        rows = self._all(
            "SELECT data FROM checkpoints WHERE session_key = %s"
            " ORDER BY created_at DESC, row_order DESC",
            (session_key,),
        )
        return [codec.checkpoint_from_dict(r[0]) for r in rows]

    def get_checkpoint(self, checkpoint_id: str) -> Checkpoint | None:
        row = self._one("SELECT data FROM checkpoints WHERE checkpoint_id = %s", (checkpoint_id,))
        return codec.checkpoint_from_dict(row[0]) if row else None

    def archives_before(self, archived_before: int, namespace: str | None = None) -> list[Archive]:
        """Archived transcripts older than the time and not preserved by a checkpoint."""
        sql = (
            f"SELECT {_ARCHIVE_COLUMNS} FROM transcripts t"
            " WHERE archived_at IS NOT NULL AND archived_at < %s"
            " AND NOT EXISTS (SELECT 1 FROM checkpoints c WHERE c.session_id = t.session_id)"
        )
        params: tuple[Any, ...] = (archived_before,)
        if namespace is not None:
            sql += " AND namespace = %s"
            params += (namespace,)
        return [_archive(r) for r in self._all(sql + " ORDER BY archived_at", params)]

    def get_lease(self, run_id: str) -> RunLease | None:
        row = self._one(f"SELECT {_LEASE_COLUMNS} WHERE run_id = %s", (run_id,))
        return RunLease(*row) if row else None

    def expired_leases(self, now: int, limit: int) -> list[RunLease]:
        sql = f"SELECT {_LEASE_COLUMNS} WHERE expires_at < %s ORDER BY expires_at LIMIT %s"
        return [RunLease(*r) for r in self._all(sql, (now, limit))]

    def usage_entries(self, namespace: str | None, start: int, end: int) -> list[UsageEntry]:
        sql = (
            "SELECT namespace, agent_id, model, hour, runs, input_tokens, output_tokens,"
            " total_tokens, cost_usd FROM usage WHERE hour >= %s AND hour < %s"
        )
        params: tuple[Any, ...] = (start, end)
        if namespace is not None:
            sql += " AND namespace = %s"
            params += (namespace,)
        sql += " ORDER BY hour, namespace, agent_id, model"
        return [
            UsageEntry(r[0], r[1], r[2], r[3], r[4], Usage(r[5], r[6], r[7], 0, r[8]))
            for r in self._all(sql, params)
        ]

    def usage_total(self, namespace: str, since: int) -> Usage:
        row = self._one(
            f"SELECT {_USAGE_SUMS} FROM usage WHERE namespace = %s AND hour >= %s",
            (namespace, since),
        )
        assert row is not None  # an aggregate always yields a row
        return Usage(int(row[0] or 0), int(row[1] or 0), int(row[2] or 0), 0, float(row[3] or 0))
