"""The Store contract, which every store implements and `tests/contract` checks.

A store runs short synchronous transaction functions:

* `write(fn)` runs `fn(tx)` in a write transaction and commits it. Writes are
  serialisable: each sees every write committed before it. A store may group concurrent
  writes into one commit; each function then runs inside its own savepoint, so one that
  raises is rolled back alone and its exception reaches only its caller. The awaitable
  resolves only after the commit is durable: a caller never sees success for a write that
  was not committed. A failed commit raises `Unavailable` for every function of it.
* `read(fn)` runs `fn(tx)` in one snapshot of the latest committed state: several reads
  in one function see the same state.
* `session(key)` is the session as of the latest commit (the hot read of GetSession); a
  store may answer it from memory when it can tell that nothing changed since.

Functions must not block on anything but the database and must not await: a store may run
them in a worker thread. They may run more than once when a store retries a transaction,
so they must not have effects outside it. Records in and out are the frozen dataclasses of
`sessiond.domain`; how a store encodes them is its own business (`domain.codec` offers
one encoding). Cursors (`append_event`) are gap-free per key and their global order is
the commit order: a reader never sees position N+1 before N.

Keys are opaque strings, with one convention a store knows (`domain/tenants.py`): a key's
*namespace* is its `tenant:<id>:` prefix, or "" for keys without one. Labels are unique
per namespace and agent, and the queries below that take a `namespace` keep to it, where
None stands for every namespace and "" for the keys without a prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sessiond.domain.events import Event, EventBody
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

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SessionQuery:
    """Filters of ListSessions. Empty strings and zero mean "any"."""

    agent_id: str = ""
    label_contains: str = ""
    parent_session_key: str = ""
    active_only: bool = False
    updated_after: int = 0
    namespace: str | None = None
    """Only keys of this namespace; None: every namespace."""


@dataclass(frozen=True, slots=True)
class RunWindow:
    """Runs of a namespace created since a time: how many, and the oldest one's time."""

    count: int = 0
    oldest_created_at: int = 0
    """0 when `count` is 0."""


class ReadTx(Protocol):
    def get_session(self, key: str) -> Session | None: ...

    def find_sessions_by_label(
        self, label: str, agent_id: str, namespace: str | None = None
    ) -> list[Session]:
        """Sessions with exactly this label, by key; `agent_id=""` searches every agent."""
        ...

    def count_sessions(self, namespace: str) -> int:
        """How many sessions the namespace holds."""
        ...

    def list_sessions(
        self, query: SessionQuery, limit: int, after: tuple[int, str] | None
    ) -> list[Session]:
        """Newest first by (updated_at, key); `after` is the last row of the previous page."""
        ...

    def get_transcript(self, session_id: str) -> Transcript | None: ...

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
        """Entries with after_seq < seq < before_seq (0 = unbounded) in seq order."""
        ...

    def list_archives(
        self,
        session_key: str,
        limit: int,
        after: tuple[int, str] | None,
        namespace: str | None = None,
    ) -> list[Archive]:
        """Archived transcripts newest first; `session_key=""` lists every key (of the
        namespace)."""
        ...

    def events_after(self, session_key: str, after_cursor: int, limit: int) -> list[Event]: ...

    def feed_after(self, after_global_seq: int, limit: int) -> list[Event]:
        """Events of every session in global order (contiguous `global_seq`)."""
        ...

    def oldest_cursor(self, session_key: str) -> int:
        """Cursor of the oldest retained event of a key; 0 when none is retained."""
        ...

    def head_cursor(self, session_key: str) -> int: ...

    def head_global_seq(self) -> int: ...

    def oldest_global_seq(self) -> int:
        """Global position of the oldest retained event; 0 when none is retained."""
        ...

    def get_run(self, run_id: str) -> Run | None: ...

    def list_runs(
        self, session_key: str, status: RunStatus | None, limit: int, offset: int
    ) -> list[Run]: ...

    def count_runs(self, session_key: str, status: RunStatus) -> int:
        """How many runs of the session have this status (the queue's length)."""
        ...

    def find_run_by_idempotency(
        self, session_key: str, scope: str, idempotency_key: str
    ) -> Run | None:
        """The run sent with this key to this instance of the session (`Run.scope`)."""
        ...

    def next_queued_run(self, session_key: str) -> Run | None:
        """The queued run to start next: steered runs first, then in send order."""
        ...

    def open_runs(self) -> list[Run]:
        """Every QUEUED or RUNNING run, oldest first."""
        ...

    def count_namespace_runs(self, namespace: str, status: RunStatus) -> int:
        """How many runs of the namespace's keys have the status (QUEUED or RUNNING)."""
        ...

    def runs_created_since(self, namespace: str, since: int) -> RunWindow:
        """Runs of the namespace's keys created at or after `since` (any status)."""
        ...

    def last_seq(self, session_id: str) -> int: ...

    def list_checkpoints(self, session_key: str) -> list[Checkpoint]:
        """Newest first."""
        ...

    def get_checkpoint(self, checkpoint_id: str) -> Checkpoint | None: ...

    def archives_before(self, archived_before: int, namespace: str | None = None) -> list[Archive]:
        """Archived transcripts older than the time that no checkpoint preserves."""
        ...

    def get_lease(self, run_id: str) -> RunLease | None: ...

    def expired_leases(self, now: int, limit: int) -> list[RunLease]:
        """Leases that expired before `now`, oldest first."""
        ...

    def usage_entries(self, namespace: str | None, start: int, end: int) -> list[UsageEntry]:
        """The usage ledger's hours that start in [start, end), ordered by (hour,
        namespace, agent_id, model)."""
        ...

    def usage_total(self, namespace: str, since: int) -> Usage:
        """The namespace's usage in the hours starting at or after `since`, summed
        (input, output and total tokens, cost; `context_tokens` is 0)."""
        ...


class WriteTx(ReadTx, Protocol):
    def insert_session(self, session: Session) -> None:
        """Adds a session and its (empty) current transcript. Label clashes raise LabelInUse."""
        ...

    def update_session(self, session: Session) -> None:
        """Replaces the stored session with the same key (and registers a new transcript id)."""
        ...

    def delete_session(self, key: str) -> None: ...

    def append_message(self, message: Message) -> Message:
        """Appends to `message.session_id`; assigns the next seq and returns the stored row."""
        ...

    def archive_transcript(self, session_id: str, reason: str, archived_at: int) -> None: ...

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
        """Appends to the cursor log; assigns the key's next cursor and the global order.
        A session change has a `reason` and the `session` after it."""
        ...

    def insert_run(self, run: Run) -> None: ...

    def update_run(self, run: Run) -> None: ...

    def insert_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def delete_checkpoint(self, checkpoint_id: str) -> None: ...

    def prune_events(self, before_ts: int) -> int:
        """Drops cursor-log events older than the time; returns how many. Cursors never
        restart: the per-key heads are kept."""
        ...

    def delete_transcript(self, session_id: str) -> None:
        """Drops an archived transcript and its messages; a live one is never dropped."""
        ...

    def put_lease(self, lease: RunLease) -> None:
        """Creates or replaces the lease of `lease.run_id`."""
        ...

    def renew_lease(self, run_id: str, owner: str, epoch: int, expires_at: int) -> bool:
        """Extends the lease when `owner` still holds it under `epoch`; False when not."""
        ...

    def delete_lease(self, run_id: str) -> None: ...

    def add_usage(self, entry: UsageEntry) -> None:
        """Adds `entry`'s runs and usage to its hour (`hour` is a multiple of an hour
        in milliseconds) of its namespace, agent and model."""
        ...


class Store(Protocol):
    async def open(self) -> None:
        """Creates or migrates the schema and starts the workers."""
        ...

    async def close(self) -> None:
        """Finishes queued writes, then stops the workers."""
        ...

    async def read(self, fn: Callable[[ReadTx], T]) -> T: ...

    async def write(self, fn: Callable[[WriteTx], T]) -> T:
        """Runs `fn` in a transaction and commits it."""
        ...

    async def session(self, key: str) -> Session | None:
        """The session `key` as of the latest commit; None when absent."""
        ...
