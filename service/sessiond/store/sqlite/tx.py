"""SQL for one connection: the ReadTx/WriteTx implementation of the SQLite store."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any

from sessiond.core import codec
from sessiond.core.errors import LabelInUse
from sessiond.core.models import (
    Archive,
    Event,
    EventKind,
    Message,
    Run,
    RunStatus,
    Session,
    SessionEventReason,
    Transcript,
)
from sessiond.store.base import SessionQuery

_SESSION_COLUMNS = "s.data, t.message_count FROM sessions s JOIN transcripts t USING (session_id)"
_EVENT_COLUMNS = "global_seq, session_key, cursor, kind, ts, run_id, reason, payload FROM events"


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _session(row: sqlite3.Row) -> Session:
    data = json.loads(row[0])
    data["message_count"] = row[1]
    return codec.session_from_dict(data)


def _session_data(session: Session) -> str:
    data = codec.session_to_dict(session)
    del data["message_count"]  # derived from the transcript on read
    return _dumps(data)


def _event(row: sqlite3.Row) -> Event:
    return Event(
        global_seq=row[0],
        session_key=row[1],
        cursor=row[2],
        kind=EventKind(row[3]),
        ts=row[4],
        run_id=row[5],
        reason=SessionEventReason(row[6]) if row[6] else None,
        payload=json.loads(row[7]),
    )


class SqliteReadTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def get_session(self, key: str) -> Session | None:
        row = self._one(f"SELECT {_SESSION_COLUMNS} WHERE s.key = ?", (key,))
        return _session(row) if row else None

    def find_sessions_by_label(self, label: str, agent_id: str) -> list[Session]:
        sql = f"SELECT {_SESSION_COLUMNS} WHERE s.label = ?"
        params: tuple[Any, ...] = (label,)
        if agent_id:
            sql += " AND s.agent_id = ?"
            params += (agent_id,)
        return [_session(r) for r in self.conn.execute(sql + " ORDER BY s.key", params)]

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
        return [codec.message_from_dict(json.loads(r[0])) for r in rows]

    def list_archives(
        self, session_key: str, limit: int, after: tuple[int, str] | None
    ) -> list[Archive]:
        sql = (
            "SELECT session_id, session_key, archive_reason, archived_at, message_count"
            " FROM transcripts WHERE archived_at IS NOT NULL"
        )
        params: list[Any] = []
        if session_key:
            sql += " AND session_key = ?"
            params.append(session_key)
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

    def head_global_seq(self) -> int:
        row = self._one("SELECT max(global_seq) FROM events")
        return int(row[0] or 0)

    def get_run(self, run_id: str) -> Run | None:
        row = self._one("SELECT data FROM runs WHERE run_id = ?", (run_id,))
        return codec.run_from_dict(json.loads(row[0])) if row else None

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
        return [codec.run_from_dict(json.loads(r[0])) for r in rows]

    def _runs(self, sql: str, params: tuple[Any, ...]) -> list[Run]:
        return [codec.run_from_dict(json.loads(r[0])) for r in self.conn.execute(sql, params)]

    def find_run_by_idempotency(self, session_key: str, idempotency_key: str) -> Run | None:
        rows = self._runs(
            "SELECT data FROM runs WHERE session_key = ? AND idempotency_key = ?",
            (session_key, idempotency_key),
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

    def last_seq(self, session_id: str) -> int:
        row = self._one("SELECT message_count FROM transcripts WHERE session_id = ?", (session_id,))
        return int(row[0]) if row else 0


class SqliteWriteTx(SqliteReadTx):
    def _ensure_transcript(self, session: Session) -> None:
        self.conn.execute(
            "INSERT OR IGNORE INTO transcripts (session_id, session_key, created_at)"
            " VALUES (?, ?, ?)",
            (session.session_id, session.key, session.updated_at),
        )

    def _write_session(self, session: Session, *, upsert: bool) -> None:
        self._ensure_transcript(session)
        # An upsert, not REPLACE: REPLACE would delete whichever row holds a clashing label.
        conflict = (
            " ON CONFLICT (key) DO UPDATE SET session_id = excluded.session_id,"
            " agent_id = excluded.agent_id, label = excluded.label,"
            " parent_session_key = excluded.parent_session_key,"
            " active_run_id = excluded.active_run_id, updated_at = excluded.updated_at,"
            " data = excluded.data"
            if upsert
            else ""
        )
        try:
            self.conn.execute(
                "INSERT INTO sessions (key, session_id, agent_id, label, parent_session_key,"
                " active_run_id, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)" + conflict,
                (
                    session.key,
                    session.session_id,
                    session.agent_id,
                    session.label,
                    session.parent_session_key,
                    session.active_run_id,
                    session.updated_at,
                    _session_data(session),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "sessions.agent_id, sessions.label" in str(exc):
                raise LabelInUse(session.label) from exc
            raise

    def insert_session(self, session: Session) -> None:
        self._write_session(session, upsert=False)

    def update_session(self, session: Session) -> None:
        self._write_session(session, upsert=True)

    def delete_session(self, key: str) -> None:
        self.conn.execute("DELETE FROM sessions WHERE key = ?", (key,))

    def append_message(self, message: Message) -> Message:
        row = self._one(
            "UPDATE transcripts SET message_count = message_count + 1 WHERE session_id = ?"
            " RETURNING message_count",
            (message.session_id,),
        )
        if row is None:
            raise LookupError(f"no transcript {message.session_id}")
        stored = replace(message, seq=int(row[0]))
        self.conn.execute(
            "INSERT INTO messages (session_id, seq, role, silent, created_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                stored.session_id,
                stored.seq,
                stored.role.value,
                int(stored.silent),
                stored.created_at,
                _dumps(codec.message_to_dict(stored)),
            ),
        )
        return stored

    def archive_transcript(self, session_id: str, reason: str, archived_at: int) -> None:
        self.conn.execute(
            "UPDATE transcripts SET archived_at = ?, archive_reason = ?"
            " WHERE session_id = ? AND archived_at IS NULL",
            (archived_at, reason, session_id),
        )

    def append_event(
        self,
        session_key: str,
        kind: EventKind,
        ts: int,
        *,
        run_id: str = "",
        reason: SessionEventReason | None = None,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        row = self._one(
            "INSERT INTO event_heads (session_key, last_cursor) VALUES (?, 1)"
            " ON CONFLICT (session_key) DO UPDATE SET last_cursor = last_cursor + 1"
            " RETURNING last_cursor",
            (session_key,),
        )
        cursor = int(row[0])
        body = payload or {}
        reason_text = reason.value if reason else None
        global_row = self._one(
            "INSERT INTO events (session_key, cursor, kind, run_id, reason, ts, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING global_seq",
            (session_key, cursor, kind.value, run_id, reason_text, ts, _dumps(body)),
        )
        return Event(int(global_row[0]), session_key, cursor, kind, ts, run_id, reason, body)

    def insert_run(self, run: Run) -> None:
        self.conn.execute(
            "INSERT INTO runs (run_id, session_key, status, idempotency_key, created_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.session_key,
                run.status.value,
                run.idempotency_key,
                run.created_at,
                _dumps(codec.run_to_dict(run)),
            ),
        )

    def update_run(self, run: Run) -> None:
        self.conn.execute(
            "UPDATE runs SET status = ?, data = ? WHERE run_id = ?",
            (run.status.value, _dumps(codec.run_to_dict(run)), run.run_id),
        )
