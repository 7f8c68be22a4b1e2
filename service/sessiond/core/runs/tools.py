"""Tool calls reported by a backend: durable ToolEvents and transcript entries.

A call's events follow it live: START (its name, the arguments known so far), UPDATEs
(the next pieces of its arguments in `input`; progress in `result`), END (the whole
arguments in `input`; the result in `result`). Its transcript entries wait for its END,
when its arguments are complete (the transcript is append-only): the TOOL_CALL, then its
TOOL_RESULT: the tool's result or, when nobody ran the tool (sessiond does not), a result
marked `cancelled` saying so, for providers that want every call answered. A call still
open when its run ends is closed by that end (`append_cancelled`, `record_cancelled`).
`result` texts reach events only when the session's verbose level is `full`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sessiond.agents.base import ToolEnd, ToolStart
from sessiond.core.committer import record
from sessiond.domain.clock import now_ms
from sessiond.domain.events import Event, ToolEvent, ToolPhase
from sessiond.domain.ids import new_etag
from sessiond.domain.models import Message, Role, Run, Session, SessionEventReason
from sessiond.store.base import WriteTx

UNANSWERED_TOOL_TEXT = "tool not run: no result was reported for this call"
CANCELLED_TOOL_TEXT = "tool call cancelled: the run stopped before it returned"


@dataclass(frozen=True, slots=True)
class ToolCall:
    tool_call_id: str
    name: str
    input: str
    """The arguments: whole at the call's END, as far as they came when cancelled."""


def record_start(tx: WriteTx, events: list[Event], run: Run, event: ToolStart) -> None:
    session = tx.get_session(run.session_key)
    if session is None:
        return
    body = ToolEvent(ToolPhase.START, event.tool_call_id, name=event.name, input=event.input)
    record(tx, events, session, now_ms(), body, run_id=run.run_id)


def record_update(
    tx: WriteTx, events: list[Event], run: Run, tool_call_id: str, piece: str, progress: str
) -> None:
    """An UPDATE: the next `piece` of the call's arguments, and progress of its result."""
    session = tx.get_session(run.session_key)
    if session is None:
        return
    result = progress if session.verbose_level == "full" else ""
    body = ToolEvent(ToolPhase.UPDATE, tool_call_id, input=piece, result=result)
    record(tx, events, session, now_ms(), body, run_id=run.run_id)


def record_end(
    tx: WriteTx, events: list[Event], run: Run, call: ToolCall, piece: str, event: ToolEnd
) -> None:
    """The call's last argument `piece` not yet sent (as an UPDATE), its transcript
    entries, and its END: a session change (the message count moved)."""
    if piece:
        record_update(tx, events, run, call.tool_call_id, piece, "")
    session = tx.get_session(run.session_key)
    current = tx.get_run(run.run_id)
    if session is None or current is None:
        return
    run = current  # its transcript may have moved since it started (compaction)
    ts = now_ms()
    _append_call(tx, run, call, call.input, ts)
    if event.result is None:
        _append_result(tx, run, call, UNANSWERED_TOOL_TEXT, ts, True)
    else:
        _append_result(tx, run, call, event.result, ts, False)
    body = ToolEvent(
        ToolPhase.END,
        call.tool_call_id,
        name=call.name,
        input=call.input,
        result=(event.result or "") if session.verbose_level == "full" else "",
        is_error=event.is_error,
    )
    if session.session_id == run.session_id:
        count = tx.last_seq(session.session_id)
        session = replace(session, message_count=count, updated_at=ts, etag=new_etag())
        tx.update_session(session)
    record(tx, events, session, ts, body, run_id=run.run_id, reason=SessionEventReason.TOOL)


def append_cancelled(tx: WriteTx, run: Run, calls: Sequence[ToolCall], ts: int) -> None:
    """Transcript entries of calls left open by a run's end: each TOOL_CALL with its
    arguments when they are JSON (cut-off arguments would make the next request invalid;
    its END event keeps them), and a cancelled TOOL_RESULT."""
    for call in calls:
        _append_call(tx, run, call, call.input if _is_json(call.input) else "", ts)
        _append_result(tx, run, call, CANCELLED_TOOL_TEXT, ts, True)


def record_cancelled(
    tx: WriteTx, events: list[Event], session: Session, run: Run, calls: Sequence[ToolCall], ts: int
) -> None:
    """The END, `cancelled`, of each call left open by a run's end (before its end event)."""
    for call in calls:
        body = ToolEvent(
            ToolPhase.END, call.tool_call_id, name=call.name, input=call.input, cancelled=True
        )
        record(tx, events, session, ts, body, run_id=run.run_id)


def _append_call(tx: WriteTx, run: Run, call: ToolCall, arguments: str, ts: int) -> None:
    tx.append_message(
        Message(
            run.session_id,
            0,
            Role.TOOL_CALL,
            "",
            ts,
            tool_name=call.name,
            tool_call_id=call.tool_call_id,
            tool_input=arguments,
            run_id=run.run_id,
        )
    )


def _append_result(
    tx: WriteTx, run: Run, call: ToolCall, text: str, ts: int, cancelled: bool
) -> None:
    tx.append_message(
        Message(
            run.session_id,
            0,
            Role.TOOL_RESULT,
            text,
            ts,
            tool_name=call.name,
            tool_call_id=call.tool_call_id,
            run_id=run.run_id,
            cancelled=cancelled,
        )
    )


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
