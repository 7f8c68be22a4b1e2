"""The in-memory store's tables: the rows the SQLite schema holds, as Python containers.

Rows keep what SQLite keeps in columns beside the record (a run's session key,
idempotency key and creation time are fixed when it is inserted, as the columns are) and
an insertion number where SQLite orders by rowid. Sessions are stored and handed out as
copies with their own `metadata` dict and plugin values, as SQLite decodes a new record
for every read: no caller can change a stored session by changing what it was given.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

from sessiond.domain.events import Event
from sessiond.domain.models import (
    Checkpoint,
    Message,
    PluginEntry,
    Run,
    RunLease,
    Session,
    Usage,
    UsageEntry,
)


class IntegrityError(Exception):
    """A constraint of the SQLite schema (a unique or foreign key) that a write broke."""


@dataclass(frozen=True, slots=True)
class TranscriptRow:
    session_id: str
    session_key: str
    created_at: int
    message_count: int = 0
    archived_at: int | None = None
    archive_reason: str = ""


@dataclass(frozen=True, slots=True)
class RunRow:
    run: Run
    session_key: str
    """As inserted: `update_run` changes the record and the status only (so does SQLite)."""
    scope: str
    idempotency_key: str
    created_at: int
    order: int
    """Insertion number (SQLite's rowid): ties of `created_at` keep the insertion order."""


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    checkpoint: Checkpoint
    order: int


@dataclass
class Tables:
    sessions: dict[str, Session] = field(default_factory=dict)
    """By key; `message_count` is the transcript's (see `TranscriptRow`), not this copy's."""
    labels: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(namespace, agent_id, label) -> key of every labelled session: the unique index."""
    transcripts: dict[str, TranscriptRow] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)
    """By transcript id, in seq order."""
    runs: dict[str, RunRow] = field(default_factory=dict)
    runs_of_key: dict[str, list[str]] = field(default_factory=dict)
    """Run ids by session key, in insertion order."""
    idempotency: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """(session_key, scope, idempotency_key) -> run id, for non-empty keys: the unique
    index."""
    checkpoints: dict[str, CheckpointRow] = field(default_factory=dict)
    leases: dict[str, RunLease] = field(default_factory=dict)
    """By run id, in the order they were put."""
    heads: dict[str, int] = field(default_factory=dict)
    """The last cursor of each key; kept when its events are pruned or its session goes."""
    events: list[Event] = field(default_factory=list)
    """Retained events in global order."""
    events_of_key: dict[str, list[Event]] = field(default_factory=dict)
    """Retained events of each key in cursor order."""
    last_global_seq: int = 0
    """Like SQLite's AUTOINCREMENT counter: it stays put when old events are pruned."""
    last_order: int = 0
    """The last insertion number given to a run or a checkpoint."""
    usage: dict[tuple[str, int, str, str], UsageEntry] = field(default_factory=dict)
    """The usage ledger by (namespace, hour, agent_id, model)."""


def detached(session: Session, message_count: int | None = None) -> Session:
    """A copy of `session` sharing no mutable part with it (optionally re-counted)."""
    return replace(
        session,
        metadata=dict(session.metadata),
        plugin_state=tuple(
            PluginEntry(e.plugin_id, e.namespace, copy.deepcopy(e.value))
            for e in session.plugin_state
        ),
        message_count=session.message_count if message_count is None else message_count,
    )


def detached_event(event: Event) -> Event:
    """`event` with a copy of its session snapshot (every other part is immutable)."""
    if event.session is None:
        return event
    return replace(event, session=detached(event.session))


def without_context(usage: Usage) -> Usage:
    """What the ledger keeps of a usage: `context_tokens` is not additive."""
    return replace(usage, context_tokens=0) if usage.context_tokens else usage


def add_entries(a: UsageEntry, b: UsageEntry) -> UsageEntry:
    return replace(a, runs=a.runs + b.runs, usage=a.usage.plus(b.usage))
