"""Ending a run in one transaction: transcript, run row, session, events, next run."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sessiond.core.committer import record
from sessiond.core.keys import stored_key_agent
from sessiond.core.runs.ownership import RunOwnership
from sessiond.core.runs.tools import ToolCall, append_cancelled, record_cancelled
from sessiond.domain.clock import now_ms
from sessiond.domain.events import (
    Event,
    EventBody,
    Final,
    RunAborted,
    RunError,
    RunStarted,
)
from sessiond.domain.ids import new_etag
from sessiond.domain.models import (
    Message,
    Role,
    Run,
    RunStatus,
    Session,
    SessionEventReason,
    SessionStatus,
    StopReason,
    Usage,
    UsageEntry,
    hour_of,
)
from sessiond.domain.tenants import namespace_of
from sessiond.store.base import WriteTx

_SESSION_STATUS = {
    RunStatus.DONE: SessionStatus.DONE,
    RunStatus.ERROR: SessionStatus.ERROR,
    RunStatus.ABORTED: SessionStatus.ABORTED,
}


@dataclass(frozen=True, slots=True)
class Outcome:
    stop_reason: StopReason
    text: str = ""
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    """The model the run's request asked for ("" when it had none yet)."""
    error_message: str = ""
    error_kind: str = ""
    open_tools: tuple[ToolCall, ...] = ()
    """Calls left open: each ends `cancelled`, with a cancelled TOOL_RESULT."""
    thinking: str = ""
    """Thinking to keep as a THINKING entry before the reply ("" when none is kept)."""
    advance: bool = True
    """Start the next queued run in the same transaction (not when a Steer follows)."""


def _save_thinking(tx: WriteTx, run: Run, outcome: Outcome, ts: int) -> None:
    if outcome.thinking.strip():
        tx.append_message(
            Message(run.session_id, 0, Role.THINKING, outcome.thinking, ts, run_id=run.run_id)
        )


def _save_reply(tx: WriteTx, run: Run, outcome: Outcome, ts: int) -> Message | None:
    """The assistant message a run leaves; a blank partial is not saved."""
    if not outcome.text.strip():
        return None
    return tx.append_message(
        Message(
            run.session_id,
            0,
            Role.ASSISTANT,
            outcome.text,
            ts,
            run_id=run.run_id,
            usage=outcome.usage,
            stop_reason=outcome.stop_reason,
            silent=outcome.stop_reason is StopReason.SILENT,
        )
    )


def _ended_session(session: Session, run: Run, status: RunStatus, ts: int, usage: Usage) -> Session:
    runtime = ts - run.started_at if run.started_at else 0
    return replace(
        session,
        active_run_id="" if session.active_run_id == run.run_id else session.active_run_id,
        status=_SESSION_STATUS[status],
        ended_at=ts,
        runtime_ms=session.runtime_ms + max(0, runtime),
        aborted_last_run=status is RunStatus.ABORTED,
        usage=session.usage.plus(usage),
        updated_at=ts,
        etag=new_etag(),
    )


def _end_body(outcome: Outcome, message: Message | None) -> tuple[EventBody, SessionEventReason]:
    status = outcome.stop_reason.run_status
    if status is RunStatus.DONE:
        shown = message if message is not None and not message.silent else None
        final = Final(stop_reason=outcome.stop_reason, message=shown, usage=outcome.usage)
        return final, SessionEventReason.RUN_END
    if status is RunStatus.ERROR:
        error = RunError(
            error_message=outcome.error_message,
            error_kind=outcome.error_kind or "unknown",
            stop_reason=outcome.stop_reason,
        )
        return error, SessionEventReason.RUN_ERROR
    aborted = RunAborted(
        stop_reason=outcome.stop_reason, partial_message_seq=message.seq if message else 0
    )
    return aborted, SessionEventReason.ABORT


def finish_run(
    tx: WriteTx, events: list[Event], run_id: str, outcome: Outcome, ownership: RunOwnership
) -> Run | None:
    """Records the end of a run; returns the next run it started (here), if any."""
    run = tx.get_run(run_id)
    if run is None or run.ended:
        return None
    if run.status is RunStatus.RUNNING:
        ownership.release(tx, run_id)
    ts = now_ms()
    status = outcome.stop_reason.run_status
    session = tx.get_session(run.session_key)
    transcript_live = session is not None and session.session_id == run.session_id
    message = None
    if transcript_live or tx.get_transcript(run.session_id) is not None:
        append_cancelled(tx, run, outcome.open_tools, ts)
        _save_thinking(tx, run, outcome, ts)
        message = _save_reply(tx, run, outcome, ts)
    ended = replace(
        run,
        status=status,
        stop_reason=outcome.stop_reason,
        error_message=outcome.error_message,
        error_kind=outcome.error_kind,
        ended_at=ts,
        usage=outcome.usage,
    )
    tx.update_run(ended)
    if run.status is RunStatus.RUNNING:
        _record_usage(tx, run, session, outcome, ts)
    if session is None:
        return None
    if run.status is RunStatus.QUEUED:
        # A queued run never ran: the session's state belongs to its active run.
        session = replace(session, updated_at=ts, etag=new_etag())
    else:
        session = _ended_session(session, run, status, ts, outcome.usage)
    if transcript_live:
        # Cancelled tool results may have been added without a reply.
        session = replace(session, message_count=tx.last_seq(session.session_id))
    tx.update_session(session)
    record_cancelled(tx, events, session, run, outcome.open_tools, ts)
    body, reason = _end_body(outcome, message)
    record(tx, events, session, ts, body, run_id=run.run_id, reason=reason)
    return start_next(tx, events, session, ownership) if outcome.advance else None


def _record_usage(
    tx: WriteTx, run: Run, session: Session | None, outcome: Outcome, ts: int
) -> None:
    """Adds an executed run's usage to the ledger (budgets, GetUsage), in its end's write."""
    agent_id = session.agent_id if session else stored_key_agent(run.session_key) or ""
    model = outcome.model or (session.model if session else "")
    space = namespace_of(run.session_key)
    tx.add_usage(UsageEntry(space, agent_id, model, hour_of(ts), 1, outcome.usage))


def start_next(
    tx: WriteTx, events: list[Event], session: Session, ownership: RunOwnership
) -> Run | None:
    """Starts the session's next queued run when nothing is active; it executes here."""
    if session.active_run_id:
        return None
    queued = tx.next_queued_run(session.key)
    if queued is None:
        return None
    ts = now_ms()
    run = replace(queued, status=RunStatus.RUNNING, started_at=ts, session_id=session.session_id)
    tx.update_run(run)
    ownership.grant(tx, run)
    session = replace(
        session,
        active_run_id=run.run_id,
        status=SessionStatus.RUNNING,
        started_at=ts,
        updated_at=ts,
        etag=new_etag(),
    )
    tx.update_session(session)
    append_run_started(tx, events, session, run, ts)
    return run


def append_run_started(
    tx: WriteTx, events: list[Event], session: Session, run: Run, ts: int
) -> Event:
    body = RunStarted(message_seq=run.message_seq, session_id=run.session_id)
    return record(
        tx, events, session, ts, body, run_id=run.run_id, reason=SessionEventReason.RUN_START
    )
