"""SQL of the single writer: the WriteTx implementation of the SQLite store."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from sessiond.domain import codec
from sessiond.domain.errors import LabelInUse
from sessiond.domain.events import KIND_OF_BODY, Event, EventBody
from sessiond.domain.models import (
    Checkpoint,
    Message,
    Run,
    RunLease,
    Session,
    SessionEventReason,
    UsageEntry,
)
from sessiond.domain.tenants import namespace_of
from sessiond.store.sqlite.cache import WriterCache
from sessiond.store.sqlite.tx import SqliteReadTx, dumps, session_data


class SqliteWriteTx(SqliteReadTx):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self.cache = WriterCache()

    def get_session(self, key: str) -> Session | None:
        try:
            return self.cache.session(key)
        except KeyError:
            pass
        session = super().get_session(key)
        if session is not None:
            self.cache.put(self.cache.counts, session.session_id, session.message_count)
        self.cache.put(self.cache.sessions, key, session)
        return session

    def get_run(self, run_id: str) -> Run | None:
        run = self.cache.runs.get(run_id)
        if run is None:
            run = super().get_run(run_id)
            if run is not None:
                self.cache.put(self.cache.runs, run_id, run)
        return run

    def last_seq(self, session_id: str) -> int:
        count = self.cache.counts.get(session_id)
        return count if count is not None else super().last_seq(session_id)

    def _ensure_transcript(self, session: Session) -> None:
        if session.session_id in self.cache.counts:
            return  # known, so it exists
        created = self.conn.execute(
            "INSERT OR IGNORE INTO transcripts (session_id, session_key, namespace, created_at)"
            " VALUES (?, ?, ?, ?)",
            (session.session_id, session.key, namespace_of(session.key), session.updated_at),
        ).rowcount
        if created:
            self.cache.put(self.cache.counts, session.session_id, 0)

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
                " active_run_id, updated_at, data, namespace) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + conflict,
                (
                    session.key,
                    session.session_id,
                    session.agent_id,
                    session.label,
                    session.parent_session_key,
                    session.active_run_id,
                    session.updated_at,
                    session_data(session),
                    namespace_of(session.key),
                ),
            )
        except sqlite3.IntegrityError as exc:
            if "sessions.agent_id, sessions.label" in str(exc):
                raise LabelInUse(session.label) from exc
            raise
        self.cache.put(self.cache.sessions, session.key, session)

    def insert_session(self, session: Session) -> None:
        self._write_session(session, upsert=False)

    def update_session(self, session: Session) -> None:
        self._write_session(session, upsert=True)

    def delete_session(self, key: str) -> None:
        self.conn.execute("DELETE FROM sessions WHERE key = ?", (key,))
        self.cache.put(self.cache.sessions, key, None)

    def append_message(self, message: Message) -> Message:
        stored = replace(message, seq=self._next_seq(message.session_id))
        self.conn.execute(
            "INSERT INTO messages (session_id, seq, role, silent, created_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                stored.session_id,
                stored.seq,
                stored.role.value,
                int(stored.silent),
                stored.created_at,
                dumps(codec.message_to_dict(stored)),
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
        ts: int,
        body: EventBody,
        *,
        run_id: str = "",
        reason: SessionEventReason | None = None,
        session: Session | None = None,
    ) -> Event:
        cursor = self._next_cursor(session_key)
        reason_text = reason.value if reason else None
        # global_seq is the rowid: lastrowid instead of RETURNING (SQLite gathers RETURNING
        # rows in a table of their own).
        global_seq = self.conn.execute(
            "INSERT INTO events (session_key, cursor, kind, run_id, reason, ts, payload)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                session_key,
                cursor,
                KIND_OF_BODY[type(body)].value,
                run_id,
                reason_text,
                ts,
                dumps(codec.event_payload(body, session)),
            ),
        ).lastrowid
        assert global_seq is not None
        return Event(global_seq, session_key, cursor, ts, body, run_id, reason, session)

    # A transcript's length and a session's last cursor are counters the writer alone
    # moves: when it knows the current value it sets the next one with a plain UPDATE
    # that checks the old value (no RETURNING), else it reads it back as it increments.

    def _next_seq(self, session_id: str) -> int:
        seq = self._next(
            self.cache.counts,
            session_id,
            "UPDATE transcripts SET message_count = ? WHERE session_id = ? AND message_count = ?",
            "UPDATE transcripts SET message_count = message_count + 1 WHERE session_id = ?"
            " RETURNING message_count",
        )
        if seq is None:
            raise LookupError(f"no transcript {session_id}")
        return seq

    def _next_cursor(self, session_key: str) -> int:
        cursor = self._next(
            self.cache.heads,
            session_key,
            "UPDATE event_heads SET last_cursor = ? WHERE session_key = ? AND last_cursor = ?",
            "INSERT INTO event_heads (session_key, last_cursor) VALUES (?, 1)"
            " ON CONFLICT (session_key) DO UPDATE SET last_cursor = last_cursor + 1"
            " RETURNING last_cursor",
        )
        assert cursor is not None  # the upsert always returns its row
        return cursor

    def _next(
        self, known_values: dict[str, int], key: str, checked: str, counting: str
    ) -> int | None:
        """The counter's next value: `checked` (new, key, old) when the old one is known
        and still stored, else `counting` (key) returning it; None when no row counts."""
        known = known_values.get(key)
        if known is not None and self.conn.execute(checked, (known + 1, key, known)).rowcount:
            value = known + 1
        else:
            row = self._one(counting, (key,))
            if row is None:
                return None
            value = int(row[0])
        self.cache.put(known_values, key, value)
        return value

    def insert_run(self, run: Run) -> None:
        self.conn.execute(
            "INSERT INTO runs"
            " (run_id, session_key, status, scope, idempotency_key, created_at, data, namespace)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.session_key,
                run.status.value,
                run.scope,
                run.idempotency_key,
                run.created_at,
                dumps(run),
                namespace_of(run.session_key),
            ),
        )
        self.cache.put(self.cache.runs, run.run_id, run)

    def update_run(self, run: Run) -> None:
        self.conn.execute(
            "UPDATE runs SET status = ?, data = ? WHERE run_id = ?",
            (run.status.value, dumps(run), run.run_id),
        )
        self.cache.put(self.cache.runs, run.run_id, run)

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints (checkpoint_id, session_key, session_id, created_at, data)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                checkpoint.checkpoint_id,
                checkpoint.session_key,
                checkpoint.session_id,
                checkpoint.created_at,
                dumps(codec.checkpoint_to_dict(checkpoint)),
            ),
        )

    def delete_checkpoint(self, checkpoint_id: str) -> None:
        self.conn.execute("DELETE FROM checkpoints WHERE checkpoint_id = ?", (checkpoint_id,))

    def prune_events(self, before_ts: int) -> int:
        return self.conn.execute("DELETE FROM events WHERE ts < ?", (before_ts,)).rowcount

    def delete_transcript(self, session_id: str) -> None:
        """Drops an archived transcript and its messages (retention)."""
        self.conn.execute(
            "DELETE FROM transcripts WHERE session_id = ? AND archived_at IS NOT NULL",
            (session_id,),
        )
        self.cache.drop(self.cache.counts, session_id)

    def put_lease(self, lease: RunLease) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO run_leases (run_id, session_key, owner, epoch, expires_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (lease.run_id, lease.session_key, lease.owner, lease.epoch, lease.expires_at),
        )

    def renew_lease(self, run_id: str, owner: str, epoch: int, expires_at: int) -> bool:
        renewed = self.conn.execute(
            "UPDATE run_leases SET expires_at = ? WHERE run_id = ? AND owner = ? AND epoch = ?",
            (expires_at, run_id, owner, epoch),
        ).rowcount
        return bool(renewed)

    def delete_lease(self, run_id: str) -> None:
        self.conn.execute("DELETE FROM run_leases WHERE run_id = ?", (run_id,))

    def add_usage(self, entry: UsageEntry) -> None:
        usage = entry.usage
        self.conn.execute(
            "INSERT INTO usage (namespace, hour, agent_id, model, runs, input_tokens,"
            " output_tokens, total_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (namespace, hour, agent_id, model) DO UPDATE SET"
            " runs = runs + excluded.runs, input_tokens = input_tokens + excluded.input_tokens,"
            " output_tokens = output_tokens + excluded.output_tokens,"
            " total_tokens = total_tokens + excluded.total_tokens,"
            " cost_usd = cost_usd + excluded.cost_usd",
            (
                entry.namespace,
                entry.hour,
                entry.agent_id,
                entry.model,
                entry.runs,
                usage.input_tokens,
                usage.output_tokens,
                usage.total_tokens,
                usage.estimated_cost_usd,
            ),
        )
