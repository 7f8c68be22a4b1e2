"""Tool calls and results reported by a backend: transcript entries and durable events."""

from __future__ import annotations

from dataclasses import replace

from sessiond.agents.base import ToolEnd, ToolStart, ToolUpdate
from sessiond.core.committer import record
from sessiond.domain.clock import now_ms
from sessiond.domain.events import Event, ToolEvent, ToolPhase
from sessiond.domain.ids import new_etag
from sessiond.domain.models import Message, Role, Run, SessionEventReason
from sessiond.store.base import WriteTx


def record_tool(
    tx: WriteTx, events: list[Event], run: Run, event: ToolStart | ToolUpdate | ToolEnd
) -> None:
    """A tool call or result joins the transcript; every phase is a durable event."""
    session = tx.get_session(run.session_key)
    current = tx.get_run(run.run_id)
    if session is None or current is None:
        return
    run = current  # its transcript may have moved since it started (compaction)
    ts = now_ms()
    verbose = session.verbose_level == "full"
    body: ToolEvent
    if isinstance(event, ToolStart):
        tx.append_message(
            Message(
                run.session_id,
                0,
                Role.TOOL_CALL,
                "",
                ts,
                tool_name=event.name,
                tool_call_id=event.tool_call_id,
                tool_input=event.input,
                run_id=run.run_id,
            )
        )
        body = ToolEvent(ToolPhase.START, event.tool_call_id, name=event.name, input=event.input)
    elif isinstance(event, ToolEnd):
        tx.append_message(
            Message(
                run.session_id,
                0,
                Role.TOOL_RESULT,
                event.result,
                ts,
                tool_call_id=event.tool_call_id,
                run_id=run.run_id,
            )
        )
        result = event.result if verbose else ""
        body = ToolEvent(ToolPhase.END, event.tool_call_id, result=result, is_error=event.is_error)
    else:
        body = ToolEvent(ToolPhase.UPDATE, event.tool_call_id, result=event.text if verbose else "")
        record(tx, events, session, ts, body, run_id=run.run_id)
        return
    # A transcript entry was added: a session change (its message count moved).
    if session.session_id == run.session_id:
        count = tx.last_seq(session.session_id)
        session = replace(session, message_count=count, updated_at=ts, etag=new_etag())
        tx.update_session(session)
    record(tx, events, session, ts, body, run_id=run.run_id, reason=SessionEventReason.TOOL)
