"""Records the store contract tests write (sessions, messages, runs, checkpoints, one event
body of every kind) and the writes most tests start with."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sessiond.domain.events import (
    Compaction,
    EventBody,
    Final,
    HistoryOmitted,
    RunAborted,
    RunError,
    RunStarted,
    SessionChanged,
    ToolEvent,
    ToolPhase,
)
from sessiond.domain.models import (
    Attachment,
    Checkpoint,
    Message,
    PluginEntry,
    QueueMode,
    Role,
    Run,
    RunStatus,
    SendPolicy,
    Session,
    SessionStatus,
    Usage,
)
from sessiond.store.base import Store, WriteTx


def session(key: str = "agent:main:a", **fields: Any) -> Session:
    base = Session(
        key=key,
        session_id=f"sid-{key}",
        agent_id=key.split(":")[1] if key.startswith("agent:") else "main",
        created_at=1,
        updated_at=1,
        etag="e1",
    )
    return replace(base, **fields)


def full_session(key: str = "agent:main:full") -> Session:
    """A session with every field away from its default."""
    return session(
        key,
        label="Full",
        display_name="Full session",
        model="gpt-x",
        model_provider="openai",
        thinking_level="high",
        verbose_level="full",
        reasoning_level="stream",
        send_policy=SendPolicy.DENY,
        queue_mode=QueueMode.INTERRUPT,
        parent_session_key="agent:main:main",
        status=SessionStatus.RUNNING,
        active_run_id="run-active",
        started_at=5,
        ended_at=6,
        runtime_ms=7,
        aborted_last_run=True,
        usage=Usage(1, 2, 3, 4, 0.5),
        compaction_count=2,
        metadata={"team": "blue", "ticket": "T-1"},
        plugin_state=(PluginEntry("plug", "ns", {"nested": [1, "two", None], "ok": True}),),
        instance_id="life-1",
    )


def message(session_id: str, text: str = "hi", **fields: Any) -> Message:
    return replace(Message(session_id, 0, Role.USER, text, created_at=2), **fields)


def full_message(session_id: str) -> Message:
    """A message with every field away from its default (seq is the store's to assign)."""
    return Message(
        session_id,
        0,
        Role.TOOL_CALL,
        "calling",
        created_at=3,
        tool_name="search",
        tool_call_id="call-1",
        tool_input='{"q": "x"}',
        run_id="run-1",
        usage=Usage(10, 20, 30, 40, 0.25),
        stop_reason="aborted",
        silent=False,
        cancelled=True,
        label="tag",
        attachments=(Attachment("image/png", b"\x89PNG\x00\xff", "a.png"),),
    )


def run(run_id: str, key: str = "agent:main:a", **fields: Any) -> Run:
    base = Run(run_id, key, f"sid-{key}", RunStatus.QUEUED, created_at=10)
    return replace(base, **fields)


def checkpoint(checkpoint_id: str, key: str, session_id: str, created_at: int) -> Checkpoint:
    return Checkpoint(
        checkpoint_id,
        key,
        session_id,
        created_at,
        reason="compact",
        tokens_before=100,
        tokens_after=10,
        message_count_before=8,
    )


def bodies(session_id: str) -> list[EventBody]:
    """One body of every kind (and both shapes of the ones with optional parts)."""
    return [
        RunStarted(message_seq=3, session_id=session_id),
        ToolEvent(ToolPhase.START, "call-1", name="search", input='{"q": "x"}'),
        ToolEvent(ToolPhase.UPDATE, "call-1", result="half"),
        ToolEvent(ToolPhase.END, "call-1", result="done", is_error=True, cancelled=True),
        Final("completed", full_message(session_id), Usage(1, 2, 3, 4, 0.125)),
        Final("silent"),
        RunError("boom", "rate_limit", "error"),
        RunAborted("aborted", partial_message_seq=4),
        RunAborted("interrupted"),
        SessionChanged(),
        Compaction("cp-1", 1, 9, "summary", 900, 90, "sid-new", automatic=True),
        HistoryOmitted(omitted_entries=12, estimated_tokens=31_000, budget_tokens=32_000),
    ]


# -- writing them ---------------------------------------------------------------------


async def insert(store: Store, *sessions: Session) -> None:
    def write(tx: WriteTx) -> None:
        for each in sessions:
            tx.insert_session(each)

    await store.write(write)


async def append(store: Store, session_id: str, *texts: str, **fields: object) -> list[int]:
    def write(tx: WriteTx) -> list[int]:
        return [tx.append_message(message(session_id, t, **fields)).seq for t in texts]

    return await store.write(write)
