"""Changes of the in-memory store: the WriteTx implementation, with an undo journal.

Every change to the tables records how to undo it; when the write function raises, the
store undoes its changes newest first (its "savepoint"), so it leaves no trace and the
writes before and after it stand. The rules SQLite's schema enforces are checked here:
unique keys and labels, and references to transcripts (`IntegrityError`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

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
from sessiond.store.memory.read_tx import MemoryReadTx
from sessiond.store.memory.tables import (
    CheckpointRow,
    IntegrityError,
    RunRow,
    Tables,
    TranscriptRow,
    add_entries,
    detached,
    detached_event,
    without_context,
)

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()


class MemoryWriteTx(MemoryReadTx):
    def __init__(self, tables: Tables) -> None:
        super().__init__(tables)
        self._undo: list[Callable[[], object]] = []

    def rollback(self) -> None:
        """Undoes every change made through this transaction, newest first."""
        while self._undo:
            self._undo.pop()()

    # -- journaled primitives --------------------------------------------------------------

    def _put(self, table: dict[K, V], key: K, value: V) -> None:
        old = table.get(key, _MISSING)
        table[key] = value
        self._undo.append(lambda: _restore(table, key, old))

    def _drop(self, table: dict[K, V], key: K) -> None:
        if key in table:
            old = table.pop(key)
            self._undo.append(lambda: _restore(table, key, old))

    def _append(self, items: list[V], item: V) -> None:
        items.append(item)
        self._undo.append(items.pop)

    def _set(self, name: str, value: object) -> None:
        old = getattr(self.tables, name)
        setattr(self.tables, name, value)
        self._undo.append(lambda: setattr(self.tables, name, old))

    def _next_order(self) -> int:
        self._set("last_order", self.tables.last_order + 1)
        return self.tables.last_order

    # -- sessions and transcripts ----------------------------------------------------------

    def _ensure_transcript(self, session: Session) -> None:
        if session.session_id not in self.tables.transcripts:
            row = TranscriptRow(session.session_id, session.key, session.updated_at)
            self._put(self.tables.transcripts, session.session_id, row)
            self._put(self.tables.messages, session.session_id, [])

    def _write_session(self, session: Session, *, upsert: bool) -> None:
        self._ensure_transcript(session)
        current = self.tables.sessions.get(session.key)
        if current is not None and not upsert:
            raise IntegrityError(f"session {session.key} exists")
        label = _label_of(session)
        if session.label and self.tables.labels.get(label, session.key) != session.key:
            raise LabelInUse(session.label)
        if current is not None and current.label:
            self._drop(self.tables.labels, _label_of(current))
        if session.label:
            self._put(self.tables.labels, label, session.key)
        self._put(self.tables.sessions, session.key, detached(session))

    def insert_session(self, session: Session) -> None:
        self._write_session(session, upsert=False)

    def update_session(self, session: Session) -> None:
        self._write_session(session, upsert=True)

    def delete_session(self, key: str) -> None:
        current = self.tables.sessions.get(key)
        if current is None:
            return
        if current.label:
            self._drop(self.tables.labels, _label_of(current))
        self._drop(self.tables.sessions, key)

    def append_message(self, message: Message) -> Message:
        row = self.tables.transcripts.get(message.session_id)
        if row is None:
            raise LookupError(f"no transcript {message.session_id}")
        stored = replace(message, seq=row.message_count + 1)
        self._put(self.tables.transcripts, row.session_id, replace(row, message_count=stored.seq))
        self._append(self.tables.messages[row.session_id], stored)
        return stored

    def archive_transcript(self, session_id: str, reason: str, archived_at: int) -> None:
        row = self.tables.transcripts.get(session_id)
        if row is not None and row.archived_at is None:
            archived = replace(row, archived_at=archived_at, archive_reason=reason)
            self._put(self.tables.transcripts, session_id, archived)

    def delete_transcript(self, session_id: str) -> None:
        """Drops an archived transcript and its messages (retention)."""
        row = self.tables.transcripts.get(session_id)
        if row is None or row.archived_at is None:
            return
        # The foreign keys of sessions and checkpoints (SQLite refuses the delete).
        if any(s.session_id == session_id for s in self.tables.sessions.values()) or any(
            c.checkpoint.session_id == session_id for c in self.tables.checkpoints.values()
        ):
            raise IntegrityError(f"transcript {session_id} is still referenced")
        self._drop(self.tables.transcripts, session_id)
        self._drop(self.tables.messages, session_id)

    # -- the cursor log --------------------------------------------------------------------

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
        KIND_OF_BODY[type(body)]  # an unknown body is refused, as SQLite's encoding does
        cursor = self.tables.heads.get(session_key, 0) + 1
        self._put(self.tables.heads, session_key, cursor)
        self._set("last_global_seq", self.tables.last_global_seq + 1)
        event = Event(
            self.tables.last_global_seq, session_key, cursor, ts, body, run_id, reason, session
        )
        stored = detached_event(event)
        self._append(self.tables.events, stored)
        of_key = self.tables.events_of_key.get(session_key)
        if of_key is None:
            self._put(self.tables.events_of_key, session_key, [stored])
        else:
            self._append(of_key, stored)
        return event

    def prune_events(self, before_ts: int) -> int:
        kept = [e for e in self.tables.events if e.ts >= before_ts]
        dropped = len(self.tables.events) - len(kept)
        if dropped:
            self._set("events", kept)
            for key, events in list(self.tables.events_of_key.items()):
                if any(e.ts < before_ts for e in events):
                    retained = [e for e in events if e.ts >= before_ts]
                    self._put(self.tables.events_of_key, key, retained)
        return dropped

    # -- runs and checkpoints --------------------------------------------------------------

    def insert_run(self, run: Run) -> None:
        unique = (run.session_key, run.scope, run.idempotency_key)
        if run.run_id in self.tables.runs or (
            run.idempotency_key and unique in self.tables.idempotency
        ):
            raise IntegrityError(f"run {run.run_id} or its idempotency key exists")
        row = RunRow(
            run, run.session_key, run.scope, run.idempotency_key, run.created_at, self._next_order()
        )
        self._put(self.tables.runs, run.run_id, row)
        of_key = self.tables.runs_of_key.get(run.session_key)
        if of_key is None:
            self._put(self.tables.runs_of_key, run.session_key, [run.run_id])
        else:
            self._append(of_key, run.run_id)
        if run.idempotency_key:
            self._put(self.tables.idempotency, unique, run.run_id)

    def update_run(self, run: Run) -> None:
        row = self.tables.runs.get(run.run_id)
        if row is not None:
            self._put(self.tables.runs, run.run_id, replace(row, run=run))

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None:
        if checkpoint.checkpoint_id in self.tables.checkpoints:
            raise IntegrityError(f"checkpoint {checkpoint.checkpoint_id} exists")
        if checkpoint.session_id not in self.tables.transcripts:
            raise IntegrityError(f"no transcript {checkpoint.session_id}")
        row = CheckpointRow(checkpoint, self._next_order())
        self._put(self.tables.checkpoints, checkpoint.checkpoint_id, row)

    def delete_checkpoint(self, checkpoint_id: str) -> None:
        self._drop(self.tables.checkpoints, checkpoint_id)

    # -- run leases ------------------------------------------------------------------------

    def put_lease(self, lease: RunLease) -> None:
        self._drop(self.tables.leases, lease.run_id)  # a replaced lease counts as new
        self._put(self.tables.leases, lease.run_id, lease)

    def renew_lease(self, run_id: str, owner: str, epoch: int, expires_at: int) -> bool:
        lease = self.tables.leases.get(run_id)
        if lease is None or (lease.owner, lease.epoch) != (owner, epoch):
            return False
        self._put(self.tables.leases, run_id, replace(lease, expires_at=expires_at))
        return True

    def delete_lease(self, run_id: str) -> None:
        self._drop(self.tables.leases, run_id)

    # -- the usage ledger ------------------------------------------------------------------

    def add_usage(self, entry: UsageEntry) -> None:
        at = (entry.namespace, entry.hour, entry.agent_id, entry.model)
        current = self.tables.usage.get(at)
        summed = entry if current is None else add_entries(current, entry)
        self._put(self.tables.usage, at, replace(summed, usage=without_context(summed.usage)))


def _label_of(session: Session) -> tuple[str, str, str]:
    return namespace_of(session.key), session.agent_id, session.label


def _restore(table: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        table.pop(key, None)
    else:
        table[key] = old
