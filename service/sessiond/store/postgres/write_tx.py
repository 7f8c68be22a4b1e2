"""SQL of writes: the WriteTx implementation of the PostgreSQL store.

A write transaction begins by locking the single row of `event_feed_head` (`begin`) and
holds it until it commits: no other writer, of this replica or another, runs meanwhile,
so what it reads stays current, and it numbers the events it appends itself, writing the
head back once, just before COMMIT (`commit`). A transcript's length and a key's last
cursor are moved by the same statement that uses them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from psycopg import errors
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
from sessiond.store.postgres.read_tx import Connection, PostgresReadTx


def json_text(data: Any) -> str:
    """Compact JSON text of a record or a dict (orjson encodes dataclasses and enums)."""
    return orjson.dumps(data).decode()


LABEL_INDEX = "sessions_label"

# The transcript first (a new session id registers a new one), then the session. The
# label check is in the statement (a session whose label another session of its agent and
# namespace holds is not written: no row, LabelInUse), so a clash leaves the transaction
# usable; the unique index stays the rule the database enforces.
_WRITE_SESSION = """
WITH transcript AS (
    INSERT INTO transcripts (session_id, session_key, namespace, created_at)
    VALUES (%(session_id)s, %(key)s, %(namespace)s, %(updated_at)s)
    ON CONFLICT (session_id) DO NOTHING
)
INSERT INTO sessions (key, session_id, agent_id, label, parent_session_key, active_run_id,
                      updated_at, data, namespace)
SELECT %(key)s::text, %(session_id)s::text, %(agent_id)s::text, %(label)s::text,
       %(parent)s::text, %(active_run_id)s::text, %(updated_at)s::bigint, %(data)s::json,
       %(namespace)s::text
WHERE %(label)s::text = '' OR NOT EXISTS (
    SELECT 1 FROM sessions
    WHERE namespace = %(namespace)s::text AND agent_id = %(agent_id)s::text
      AND label = %(label)s::text AND key <> %(key)s::text)
"""
_UPSERT = """
ON CONFLICT (key) DO UPDATE SET session_id = excluded.session_id,
    agent_id = excluded.agent_id, label = excluded.label,
    parent_session_key = excluded.parent_session_key,
    active_run_id = excluded.active_run_id, updated_at = excluded.updated_at,
    data = excluded.data
"""

# One round trip: the key's next cursor and the event (its global position is counted by
# the transaction, which holds the feed head).
_APPEND_EVENT = """
WITH head AS (
    INSERT INTO event_heads AS h (session_key, last_cursor) VALUES (%(key)s, 1)
    ON CONFLICT (session_key) DO UPDATE SET last_cursor = h.last_cursor + 1
    RETURNING last_cursor
)
INSERT INTO events (global_seq, session_key, cursor, kind, run_id, reason, ts, payload)
SELECT %(global_seq)s, %(key)s, head.last_cursor, %(kind)s, %(run_id)s, %(reason)s,
       %(ts)s, %(payload)s::json
FROM head
RETURNING cursor
"""

# The transcript's length and the message, in one statement: the seq is the new length.
_APPEND_MESSAGE = """
WITH counted AS (
    UPDATE transcripts SET message_count = message_count + 1 WHERE session_id = %(id)s
    RETURNING message_count
)
INSERT INTO messages (session_id, seq, role, silent, created_at, data)
SELECT %(id)s, counted.message_count, %(role)s, %(silent)s, %(created_at)s, %(data)s::json
FROM counted
RETURNING seq
"""


def _message_data(message: Message) -> str:
    data = codec.message_to_dict(message)
    del data["seq"]  # assigned by the insert: it lives in its column
    return json_text(data)


class PostgresWriteTx(PostgresReadTx):
    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self._begun_at = 0
        self.global_seq = 0
        """The last global position, counting the events appended by this transaction."""

    def begin(self) -> None:
        """Begins the transaction and takes the writers' lock (the feed head row).

        Every write transaction takes it first: writes run one at a time across replicas
        (serialisable, like SQLite's single writer), and events get their global
        positions in commit order: a transaction that holds the row commits before the
        next one can number anything."""
        cursor = self.conn.execute("BEGIN; SELECT last_global_seq FROM event_feed_head FOR UPDATE")
        cursor.nextset()
        row = cursor.fetchone()
        assert row is not None  # the migration inserts the row
        self._begun_at = self.global_seq = int(row[0])

    def commit(self) -> None:
        """Writes the feed head back (when events were appended) and commits."""
        head = ""
        if self.global_seq != self._begun_at:
            head = f"UPDATE event_feed_head SET last_global_seq = {int(self.global_seq)}; "
        self.conn.execute(head + "COMMIT")

    def head_global_seq(self) -> int:
        return self.global_seq

    def _write_session(self, session: Session, *, upsert: bool) -> None:
        params = {
            "key": session.key,
            "session_id": session.session_id,
            "agent_id": session.agent_id,
            "label": session.label,
            "parent": session.parent_session_key,
            "active_run_id": session.active_run_id,
            "updated_at": session.updated_at,
            "data": json_text(session),
            "namespace": namespace_of(session.key),
        }
        try:
            written = self.conn.execute(
                _WRITE_SESSION + (_UPSERT if upsert else ""), params
            ).rowcount
        except errors.UniqueViolation as exc:
            if exc.diag.constraint_name == LABEL_INDEX:  # a concurrent writer's label
                raise LabelInUse(session.label) from exc
            raise
        if not written:
            raise LabelInUse(session.label)

    def insert_session(self, session: Session) -> None:
        self._write_session(session, upsert=False)

    def update_session(self, session: Session) -> None:
        self._write_session(session, upsert=True)

    def delete_session(self, key: str) -> None:
        self.conn.execute("DELETE FROM sessions WHERE key = %s", (key,))

    def append_message(self, message: Message) -> Message:
        row = self._one(
            _APPEND_MESSAGE,
            {
                "id": message.session_id,
                "role": message.role.value,
                "silent": message.silent,
                "created_at": message.created_at,
                "data": _message_data(message),
            },
        )
        if row is None:
            raise LookupError(f"no transcript {message.session_id}")
        return replace(message, seq=int(row[0]))

    def archive_transcript(self, session_id: str, reason: str, archived_at: int) -> None:
        self.conn.execute(
            "UPDATE transcripts SET archived_at = %s, archive_reason = %s"
            " WHERE session_id = %s AND archived_at IS NULL",
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
        global_seq = self.global_seq + 1
        row = self._one(
            _APPEND_EVENT,
            {
                "global_seq": global_seq,
                "key": session_key,
                "kind": KIND_OF_BODY[type(body)].value,
                "run_id": run_id,
                "reason": reason.value if reason else None,
                "ts": ts,
                "payload": json_text(codec.event_payload(body, session)),
            },
        )
        assert row is not None  # the upsert always yields one
        self.global_seq = global_seq
        return Event(global_seq, session_key, int(row[0]), ts, body, run_id, reason, session)

    def insert_run(self, run: Run) -> None:
        self.conn.execute(
            "INSERT INTO runs (run_id, session_key, status, scope, idempotency_key, priority,"
            " created_at, data, namespace) VALUES (%s, %s, %s, %s, %s, %s, %s, %s::json, %s)",
            (
                run.run_id,
                run.session_key,
                run.status.value,
                run.scope,
                run.idempotency_key,
                run.priority,
                run.created_at,
                json_text(run),
                namespace_of(run.session_key),
            ),
        )

    def update_run(self, run: Run) -> None:
        self.conn.execute(
            "UPDATE runs SET status = %s, priority = %s, data = %s::json WHERE run_id = %s",
            (run.status.value, run.priority, json_text(run), run.run_id),
        )

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        self.conn.execute(
            "INSERT INTO checkpoints (checkpoint_id, session_key, session_id, created_at, data)"
            " VALUES (%s, %s, %s, %s, %s::json)",
            (
                checkpoint.checkpoint_id,
                checkpoint.session_key,
                checkpoint.session_id,
                checkpoint.created_at,
                json_text(codec.checkpoint_to_dict(checkpoint)),
            ),
        )

    def delete_checkpoint(self, checkpoint_id: str) -> None:
        self.conn.execute("DELETE FROM checkpoints WHERE checkpoint_id = %s", (checkpoint_id,))

    def prune_events(self, before_ts: int) -> int:
        return self.conn.execute("DELETE FROM events WHERE ts < %s", (before_ts,)).rowcount

    def delete_transcript(self, session_id: str) -> None:
        """Drops an archived transcript and its messages (retention)."""
        self.conn.execute(
            "DELETE FROM transcripts WHERE session_id = %s AND archived_at IS NOT NULL",
            (session_id,),
        )

    def put_lease(self, lease: RunLease) -> None:
        self.conn.execute(
            "INSERT INTO run_leases (run_id, session_key, owner, epoch, expires_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (run_id) DO UPDATE SET"
            " session_key = excluded.session_key, owner = excluded.owner,"
            " epoch = excluded.epoch, expires_at = excluded.expires_at",
            (lease.run_id, lease.session_key, lease.owner, lease.epoch, lease.expires_at),
        )

    def renew_lease(self, run_id: str, owner: str, epoch: int, expires_at: int) -> bool:
        renewed = self.conn.execute(
            "UPDATE run_leases SET expires_at = %s WHERE run_id = %s AND owner = %s AND epoch = %s",
            (expires_at, run_id, owner, epoch),
        ).rowcount
        return bool(renewed)

    def delete_lease(self, run_id: str) -> None:
        self.conn.execute("DELETE FROM run_leases WHERE run_id = %s", (run_id,))

    def add_usage(self, entry: UsageEntry) -> None:
        usage = entry.usage
        self.conn.execute(
            "INSERT INTO usage AS u (namespace, hour, agent_id, model, runs, input_tokens,"
            " output_tokens, total_tokens, cost_usd) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (namespace, hour, agent_id, model) DO UPDATE SET"
            " runs = u.runs + excluded.runs, input_tokens = u.input_tokens + excluded.input_tokens,"
            " output_tokens = u.output_tokens + excluded.output_tokens,"
            " total_tokens = u.total_tokens + excluded.total_tokens,"
            " cost_usd = u.cost_usd + excluded.cost_usd",
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
