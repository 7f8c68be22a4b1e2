"""Events of a session: the durable ones of the cursor log, and reply text in flight.

A durable `Event` is an envelope (where it sits in the log, when, which run) around one
typed body, the domain's twin of the `ChatEvent` oneof. An event that is also a session
change (WatchSessions) carries its `reason` and the session as it was after the change.
How events are stored is `sessiond.domain.codec`'s business; how clients see them is the
api layer's.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from sessiond.domain.models import Message, Session, SessionEventReason, Usage


class EventKind(enum.StrEnum):
    """The body's kind, as stored beside it (the body's type says the same)."""

    RUN_STARTED = "run_started"
    TOOL = "tool"
    FINAL = "final"
    ERROR = "error"
    ABORTED = "aborted"
    SESSION_CHANGED = "session_changed"
    COMPACTION = "compaction"
    HISTORY_OMITTED = "history_omitted"


class ToolPhase(enum.StrEnum):
    START = "start"
    UPDATE = "update"
    END = "end"


@dataclass(frozen=True, slots=True)
class RunStarted:
    message_seq: int
    """Seq of the user message the run answers."""
    session_id: str
    """The transcript the run answers in."""


@dataclass(frozen=True, slots=True)
class HistoryOmitted:
    """Earlier history was left out of the run's request: the transcript is longer than
    the agent's token budget. Recorded once the request is built, before the reply."""

    omitted_entries: int
    """Transcript entries not sent: the oldest, by whole turns."""
    estimated_tokens: int
    """Estimate of what was sent, the system prompt included."""
    budget_tokens: int
    """The agent's `context_tokens`."""


@dataclass(frozen=True, slots=True)
class ToolEvent:
    phase: ToolPhase
    tool_call_id: str
    name: str = ""
    input: str = ""
    """The call's arguments (JSON text), at START."""
    result: str = ""
    """The result or update text; kept only when the session's verbose level is `full`."""
    is_error: bool = False
    cancelled: bool = False
    """The run stopped with the call open: it ends without a result."""


@dataclass(frozen=True, slots=True)
class Final:
    stop_reason: str
    message: Message | None = None
    """The assistant message; None when the reply was silent."""
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True)
class RunError:
    error_message: str
    error_kind: str
    stop_reason: str


@dataclass(frozen=True, slots=True)
class RunAborted:
    stop_reason: str
    partial_message_seq: int = 0
    """Seq of the partial reply saved; 0 when none was."""


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """The change is the envelope's `reason`; the session after it, its `session`."""


@dataclass(frozen=True, slots=True)
class Compaction:
    checkpoint_id: str
    replaced_from_seq: int
    replaced_to_seq: int
    summary: str
    tokens_before: int
    tokens_after: int
    session_id: str
    """The new transcript's id."""
    automatic: bool = False


EventBody = (
    RunStarted
    | ToolEvent
    | Final
    | RunError
    | RunAborted
    | SessionChanged
    | Compaction
    | HistoryOmitted
)

KIND_OF_BODY: dict[type[EventBody], EventKind] = {
    RunStarted: EventKind.RUN_STARTED,
    ToolEvent: EventKind.TOOL,
    Final: EventKind.FINAL,
    RunError: EventKind.ERROR,
    RunAborted: EventKind.ABORTED,
    SessionChanged: EventKind.SESSION_CHANGED,
    Compaction: EventKind.COMPACTION,
    HistoryOmitted: EventKind.HISTORY_OMITTED,
}
TERMINAL_BODIES = (Final, RunError, RunAborted)
"""Bodies that end a run (a Final without a run id is an injected message)."""


@dataclass(frozen=True, slots=True)
class Event:
    """A durable event of the cursor log.

    `cursor` is per session key and gap-free; `global_seq` orders every event of every
    session (the WatchSessions feed). An event with a `reason` is also a session change,
    and `session` is the session after it.
    """

    global_seq: int
    session_key: str
    cursor: int
    ts: int
    body: EventBody
    run_id: str = ""
    reason: SessionEventReason | None = None
    session: Session | None = None

    @property
    def kind(self) -> EventKind:
        return KIND_OF_BODY[type(self.body)]

    @property
    def ends_run(self) -> bool:
        """The run `run_id` ended with this event."""
        return bool(self.run_id) and isinstance(self.body, TERMINAL_BODIES)


@dataclass(frozen=True, slots=True)
class EventRef:
    """Where a durable event is, without the event: what a bus carries of one too large
    for it. A subscriber reads the event from the store (the source of truth)."""

    global_seq: int
    session_key: str
    cursor: int
    run_id: str = ""

    @staticmethod
    def of(event: Event) -> EventRef:
        return EventRef(event.global_seq, event.session_key, event.cursor, event.run_id)


class RunCommandAction(enum.StrEnum):
    STOP = "stop"
    """Stop the run (Abort, Steer, or a mutation, asked on another replica)."""
    SNAPSHOT = "snapshot"
    """Publish the reply so far as one delta at offset 0 (a stream attached elsewhere)."""


@dataclass(frozen=True, slots=True)
class RunCommand:
    """A request to the replica executing a run, on that replica's control topic; never
    stored. The run's end, or the snapshot, comes back on the session's topic."""

    run_id: str
    action: RunCommandAction
    stop_reason: str = ""


@dataclass(frozen=True, slots=True)
class LiveDelta:
    """Reply text in flight; published on the bus, never stored."""

    session_key: str
    run_id: str
    text: str
    offset: int
    ts: int
    thinking: bool = False

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
