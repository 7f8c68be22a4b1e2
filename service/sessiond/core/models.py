"""Plain domain records. Times are integer milliseconds since the Unix epoch."""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def new_id() -> str:
    return str(uuid.uuid4())


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


class EventKind(enum.StrEnum):
    """Kinds of durable chat events (the cursor log)."""

    RUN_STARTED = "run_started"
    TOOL = "tool"
    FINAL = "final"
    ERROR = "error"
    ABORTED = "aborted"
    SESSION_CHANGED = "session_changed"
    COMPACTION = "compaction"


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    context_tokens: int = 0
    estimated_cost_usd: float = 0.0


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

    @property
    def ended(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.ERROR, RunStatus.ABORTED)


@dataclass(frozen=True, slots=True)
class Event:
    """A durable event of the cursor log.

    `cursor` is per session key and gap-free; `global_seq` orders every event of every
    session (the WatchSessions feed). `reason` is set for session changes.
    """

    global_seq: int
    session_key: str
    cursor: int
    kind: EventKind
    ts: int
    run_id: str = ""
    reason: SessionEventReason | None = None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LiveDelta:
    """Reply text in flight; published on the bus, never stored."""

    session_key: str
    run_id: str
    text: str
    offset: int
    ts: int
    thinking: bool = False

    def merge(self, other: object) -> LiveDelta | None:
        """This delta followed by `other`, when `other` continues it; else None."""
        if isinstance(other, LiveDelta) and self.continued_by(other):
            return self.extended((other,))
        return None

    def continued_by(self, other: object) -> bool:
        """Whether `other` is the text right after this delta's (same run and kind)."""
        return (
            isinstance(other, LiveDelta)
            and other.offset == self.offset + len(self.text)
            and other.run_id == self.run_id
            and other.thinking == self.thinking
        )

    def extended(self, parts: Sequence[LiveDelta]) -> LiveDelta:
        """This delta followed by `parts` (each continuing the one before), as one."""
        return LiveDelta(
            self.session_key,
            self.run_id,
            self.text + "".join(p.text for p in parts),
            self.offset,
            parts[-1].ts,
            self.thinking,
        )


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
