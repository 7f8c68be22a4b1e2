"""Plain domain records. Times are integer milliseconds since the Unix epoch."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class SessionStatus(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    ABORTED = "aborted"


class SendPolicy(enum.StrEnum):
    ALLOW = "allow"
    DENY = "deny"


class QueueMode(enum.StrEnum):
    ENQUEUE = "enqueue"
    REJECT = "reject"
    INTERRUPT = "interrupt"


class Role(enum.StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    THINKING = "thinking"


class RunStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"
    ABORTED = "aborted"


class StopReason(enum.StrEnum):
    """Why a run ended (on the Run, and on the assistant message it leaves)."""

    COMPLETED = "completed"
    SILENT = "silent"
    ABORTED = "aborted"
    """Abort."""
    INTERRUPTED = "interrupted"
    """Steer, an interrupting Send, or a mutation (reset, compaction, restore, delete)."""
    TIMEOUT = "timeout"
    SHUTDOWN = "shutdown"
    ERROR = "error"
    SERVER_RESTART = "server_restart"
    BUDGET = "budget"
    """The run crossed its session's or tenant's budget mid-reply (or started with none
    left); its partial reply is kept, as an abort's is."""

    @property
    def run_status(self) -> RunStatus:
        return _RUN_STATUS_OF_STOP[self]


_RUN_STATUS_OF_STOP = {
    StopReason.COMPLETED: RunStatus.DONE,
    StopReason.SILENT: RunStatus.DONE,
    StopReason.ABORTED: RunStatus.ABORTED,
    StopReason.INTERRUPTED: RunStatus.ABORTED,
    StopReason.TIMEOUT: RunStatus.ABORTED,
    StopReason.SHUTDOWN: RunStatus.ABORTED,
    StopReason.ERROR: RunStatus.ERROR,
    StopReason.SERVER_RESTART: RunStatus.ERROR,
    StopReason.BUDGET: RunStatus.ABORTED,
}
INJECTED = "injected"
"""The stop reason of a message added by InjectMessage (no run)."""


class SessionEventReason(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESET = "reset"
    SEND = "send"
    STEER = "steer"
    ABORT = "abort"
    RUN_START = "run_start"
    RUN_END = "run_end"
    RUN_ERROR = "run_error"
    COMPACT = "compact"
    CLEANUP = "cleanup"
    CHECKPOINT_BRANCH = "checkpoint_branch"
    CHECKPOINT_RESTORE = "checkpoint_restore"
    PLUGIN_UPDATE = "plugin_update"
    INJECT = "inject"
    TOOL = "tool"


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    context_tokens: int = 0
    estimated_cost_usd: float = 0.0

    def plus(self, more: Usage) -> Usage:
        """Both added up; `context_tokens` (the size of one request, which does not add up)
        is the later one's, or this one's when the later has none."""
        return Usage(
            self.input_tokens + more.input_tokens,
            self.output_tokens + more.output_tokens,
            self.total_tokens + more.total_tokens,
            more.context_tokens or self.context_tokens,
            self.estimated_cost_usd + more.estimated_cost_usd,
        )


@dataclass(frozen=True, slots=True)
class PluginEntry:
    plugin_id: str
    namespace: str
    value: Any


@dataclass(frozen=True, slots=True)
class Session:
    key: str
    session_id: str
    agent_id: str
    created_at: int
    updated_at: int
    etag: str
    label: str = ""
    display_name: str = ""
    model: str = ""
    model_provider: str = ""
    thinking_level: str = ""
    verbose_level: str = ""
    reasoning_level: str = ""
    send_policy: SendPolicy = SendPolicy.ALLOW
    queue_mode: QueueMode = QueueMode.ENQUEUE
    parent_session_key: str = ""
    status: SessionStatus = SessionStatus.IDLE
    active_run_id: str = ""
    started_at: int = 0
    ended_at: int = 0
    runtime_ms: int = 0
    aborted_last_run: bool = False
    usage: Usage = field(default_factory=Usage)
    message_count: int = 0
    compaction_count: int = 0
    metadata: dict[str, str] = field(default_factory=dict)
    plugin_state: tuple[PluginEntry, ...] = ()
    budget_cost_usd: float = 0.0
    """Cost the session may spend (its `usage.estimated_cost_usd`); 0: no limit."""
    budget_tokens: int = 0
    """Tokens the session may spend (its `usage.total_tokens`); 0: no limit."""
    instance_id: str = ""
    """This life of the key: a session deleted and created again under the same key is
    another instance (reset, compaction and restore keep it). Idempotency keys are scoped
    to it. Not part of the API; "" for sessions created before it was recorded."""

    @property
    def has_active_run(self) -> bool:
        return bool(self.active_run_id)


@dataclass(frozen=True, slots=True)
class Attachment:
    mime_type: str
    data: bytes
    file_name: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    session_id: str
    seq: int
    role: Role
    text: str
    created_at: int
    tool_name: str = ""
    tool_call_id: str = ""
    tool_input: str = ""
    run_id: str = ""
    usage: Usage | None = None
    stop_reason: str = ""
    silent: bool = False
    cancelled: bool = False
    label: str = ""
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class Run:
    run_id: str
    session_key: str
    session_id: str
    status: RunStatus
    created_at: int
    idempotency_key: str = ""
    request_hash: str = ""
    message_seq: int = 0
    stop_reason: str = ""
    """A `StopReason` value once the run ended; "" before."""
    error_message: str = ""
    error_kind: str = ""
    started_at: int = 0
    ended_at: int = 0
    usage: Usage = field(default_factory=Usage)
    timeout_ms: int = 0
    thinking: str = ""
    priority: int = 0
    """1 for a steered run: it starts before older queued runs."""
    first_cursor: int = 0
    """Cursor of the run's first event (its send): Chat re-attaches from here."""
    scope: str = ""
    """The `instance_id` of the session it was sent to: its idempotency key's scope."""
    started_by: str = ""
    """The name of the token whose Send started (or queued) it; "" without auth."""

    @property
    def ended(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.ERROR, RunStatus.ABORTED)


@dataclass(frozen=True, slots=True)
class RunLease:
    """Which replica executes a running run, until when, and under which epoch.

    The owner renews it while the run executes; every write of the run checks it, so a
    replica whose lease was taken over (it stalled or was cut off) writes nothing more of
    the run. A run whose lease expired is closed by another replica (`server_restart`).
    """

    run_id: str
    session_key: str
    owner: str
    """The replica's id (one per process start)."""
    epoch: int
    """Raised by every grant and takeover: the fencing token."""
    expires_at: int


@dataclass(frozen=True, slots=True)
class Archive:
    session_id: str
    session_key: str
    reason: str
    archived_at: int
    message_count: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A pre-compaction transcript kept for branching and restoring."""

    checkpoint_id: str
    session_key: str
    session_id: str
    """The archived transcript the checkpoint preserves."""
    created_at: int
    reason: str
    tokens_before: int = 0
    tokens_after: int = 0
    message_count_before: int = 0


@dataclass(frozen=True, slots=True)
class Transcript:
    """Where a transcript lives: the current one of a session, or an archive."""

    session_id: str
    session_key: str
    archived: bool


HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


def hour_of(ts: int) -> int:
    """The start of the UTC hour holding the time `ts`."""
    return ts - ts % HOUR_MS


def day_of(ts: int) -> int:
    """The start of the UTC day holding the time `ts`."""
    return ts - ts % DAY_MS


@dataclass(frozen=True, slots=True)
class UsageEntry:
    """What runs used, in the usage ledger: per namespace (tenant), agent, model and hour.

    Written once per run that executed, in the transaction recording its end, and summed
    by hour: budgets and GetUsage read the sums."""

    namespace: str
    """The runs' keys' namespace (`domain/tenants.py`): "" for the default tenant."""
    agent_id: str
    model: str
    """The model the runs asked for ("" when unknown)."""
    hour: int
    """Start of the UTC hour (`hour_of`), in milliseconds since the epoch."""
    runs: int = 0
    usage: Usage = field(default_factory=Usage)
    """Summed; `context_tokens` is not kept (it is not additive)."""
