"""Domain records <-> protobuf messages. The only place that knows both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from google.protobuf import duration_pb2, json_format, struct_pb2, timestamp_pb2
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.events import (
    Compaction,
    Event,
    EventBody,
    Final,
    HistoryOmitted,
    LiveDelta,
    RunAborted,
    RunError,
    RunStarted,
    SessionChanged,
    ToolEvent,
    ToolPhase,
)
from sessiond.domain.models import (
    Archive,
    Attachment,
    Message,
    PluginEntry,
    QueueMode,
    Role,
    Run,
    RunStatus,
    SendPolicy,
    Session,
    SessionEventReason,
    SessionStatus,
    Usage,
)
from sessiond.v1 import events_pb2, resources_pb2

_SESSION_STATUS = {s: getattr(resources_pb2, f"SESSION_STATUS_{s.name}") for s in SessionStatus}
_SEND_POLICY = {s: getattr(resources_pb2, f"SEND_POLICY_{s.name}") for s in SendPolicy}
_QUEUE_MODE = {s: getattr(resources_pb2, f"QUEUE_MODE_{s.name}") for s in QueueMode}
_ROLE = {r: getattr(resources_pb2, f"ROLE_{r.name}") for r in Role}
_RUN_STATUS = {s: getattr(resources_pb2, f"RUN_STATUS_{s.name}") for s in RunStatus}
_REASON = {r: getattr(events_pb2, f"SESSION_EVENT_REASON_{r.name}") for r in SessionEventReason}

_TOOL_PHASE = {p: getattr(events_pb2, f"TOOL_PHASE_{p.name}") for p in ToolPhase}

KeyView = Callable[[str], str]
"""A stored key as the caller sees it (`Caller.public_key`): every key a response names
goes through one."""


SEND_POLICY_FROM_PB = {v: k for k, v in _SEND_POLICY.items()}
QUEUE_MODE_FROM_PB = {v: k for k, v in _QUEUE_MODE.items()}
RUN_STATUS_FROM_PB = {v: k for k, v in _RUN_STATUS.items()}


def timestamp(ms: int) -> timestamp_pb2.Timestamp | None:
    if not ms:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(ms)
    return ts


# The ranges google/protobuf/timestamp.proto and duration.proto define: a value outside
# them is malformed input (the client's fault), not something to convert or store.
TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31 UTC
MAX_DURATION_SECONDS = 315_576_000_000  # about 10,000 years
NANOS_PER_SECOND = 1_000_000_000


def ms_from_timestamp(ts: timestamp_pb2.Timestamp, field: str) -> int:
    """Milliseconds since the epoch; INVALID_ARGUMENT naming `field` when `ts` is not a
    valid Timestamp (seconds outside 0001-01-01..9999-12-31, nanos outside 0..999999999)."""
    low, high = TIMESTAMP_SECONDS
    if not low <= ts.seconds <= high:
        raise InvalidArgument(
            field, f"{field}.seconds must be in {low}..{high} (0001-01-01..9999-12-31)"
        )
    if not 0 <= ts.nanos < NANOS_PER_SECOND:
        raise InvalidArgument(field, f"{field}.nanos must be in 0..999999999")
    return int(ts.ToMilliseconds())


def ms_from_duration(duration: duration_pb2.Duration, field: str) -> int:
    """Milliseconds (truncated toward zero); INVALID_ARGUMENT naming `field` when
    `duration` is not a valid Duration: seconds beyond ±315576000000, nanos beyond
    ±999999999, or nanos of the other sign than seconds."""
    seconds, nanos = duration.seconds, duration.nanos
    if not -MAX_DURATION_SECONDS <= seconds <= MAX_DURATION_SECONDS:
        raise InvalidArgument(
            field, f"{field}.seconds must be in ±{MAX_DURATION_SECONDS} (about 10,000 years)"
        )
    if not -NANOS_PER_SECOND < nanos < NANOS_PER_SECOND:
        raise InvalidArgument(field, f"{field}.nanos must be in ±999999999")
    if (seconds > 0 and nanos < 0) or (seconds < 0 and nanos > 0):
        raise InvalidArgument(field, f"{field}.seconds and {field}.nanos must have one sign")
    return int(duration.ToMilliseconds())


def role_pb(role: Role) -> resources_pb2.Role.ValueType:
    return resources_pb2.Role.Value(f"ROLE_{role.name}")


def usage_pb(usage: Usage) -> resources_pb2.Usage:
    return resources_pb2.Usage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
        context_tokens=usage.context_tokens,
        estimated_cost_usd=usage.estimated_cost_usd,
    )


def json_value(value: Any) -> struct_pb2.Value:
    pb = struct_pb2.Value()
    json_format.ParseDict(value, pb)
    return pb


def plugin_pb(entry: PluginEntry) -> resources_pb2.PluginState:
    return resources_pb2.PluginState(
        plugin_id=entry.plugin_id, namespace=entry.namespace, value=json_value(entry.value)
    )


def session_pb(session: Session, view: KeyView) -> resources_pb2.Session:
    return resources_pb2.Session(
        key=view(session.key),
        session_id=session.session_id,
        agent_id=session.agent_id,
        label=session.label,
        display_name=session.display_name,
        model=session.model,
        model_provider=session.model_provider,
        thinking_level=session.thinking_level,
        verbose_level=session.verbose_level,
        reasoning_level=session.reasoning_level,
        send_policy=_SEND_POLICY[session.send_policy],
        queue_mode=_QUEUE_MODE[session.queue_mode],
        parent_session_key=view(session.parent_session_key),
        status=_SESSION_STATUS[session.status],
        has_active_run=session.has_active_run,
        active_run_id=session.active_run_id,
        created_at=timestamp(session.created_at),
        updated_at=timestamp(session.updated_at),
        started_at=timestamp(session.started_at),
        ended_at=timestamp(session.ended_at),
        runtime_ms=session.runtime_ms,
        aborted_last_run=session.aborted_last_run,
        usage=usage_pb(session.usage),
        message_count=session.message_count,
        compaction_count=session.compaction_count,
        metadata=session.metadata,
        etag=session.etag,
        plugin_state=[plugin_pb(e) for e in session.plugin_state],
        budget_cost_usd=session.budget_cost_usd,
        budget_tokens=session.budget_tokens,
    )


def message_pb(message: Message) -> resources_pb2.Message:
    return resources_pb2.Message(
        session_id=message.session_id,
        seq=message.seq,
        role=_ROLE[message.role],
        text=message.text,
        tool_name=message.tool_name,
        tool_call_id=message.tool_call_id,
        tool_input=message.tool_input,
        run_id=message.run_id,
        created_at=timestamp(message.created_at),
        usage=usage_pb(message.usage) if message.usage else None,
        stop_reason=message.stop_reason,
        silent=message.silent,
        cancelled=message.cancelled,
        label=message.label,
        attachments=[attachment_pb(a, i) for i, a in enumerate(message.attachments)],
    )


def attachment_pb(
    attachment: Attachment, index: int, *, with_data: bool = False
) -> resources_pb2.Attachment:
    """An attachment's metadata; its content only `with_data` (GetAttachment). Messages
    carry no content: a page of up to 1000 entries, each with images of up to 5 MB, would
    have no useful bound."""
    return resources_pb2.Attachment(
        mime_type=attachment.mime_type,
        data=attachment.data if with_data else b"",
        file_name=attachment.file_name,
        omitted=not with_data,
        size_bytes=len(attachment.data),
        index=index,
    )


def run_pb(run: Run, view: KeyView) -> resources_pb2.Run:
    return resources_pb2.Run(
        run_id=run.run_id,
        session_key=view(run.session_key),
        session_id=run.session_id,
        status=_RUN_STATUS[run.status],
        stop_reason=run.stop_reason,
        error_message=run.error_message,
        error_kind=run.error_kind,
        idempotency_key=run.idempotency_key,
        created_at=timestamp(run.created_at),
        started_at=timestamp(run.started_at),
        ended_at=timestamp(run.ended_at),
        usage=usage_pb(run.usage),
        message_seq=run.message_seq,
        started_by=run.started_by,
    )


def archive_pb(archive: Archive, view: KeyView) -> resources_pb2.Archive:
    return resources_pb2.Archive(
        session_id=archive.session_id,
        session_key=view(archive.session_key),
        reason=archive.reason,
        archived_at=timestamp(archive.archived_at),
        message_count=archive.message_count,
    )


def session_event_pb(event: Event, view: KeyView) -> events_pb2.SessionEvent:
    assert event.reason is not None
    return events_pb2.SessionEvent(
        cursor=event.global_seq,
        session_cursor=event.cursor,
        session_key=view(event.session_key),
        reason=_REASON[event.reason],
        ts=timestamp(event.ts),
        session=session_pb(event.session, view) if event.session is not None else None,
        run_id=event.run_id,
    )


def chat_event_pb(event: Event, view: KeyView) -> events_pb2.ChatEvent:
    """A durable event as a ChatEvent (session_changed events carry no run id)."""
    pb = events_pb2.ChatEvent(
        session_key=view(event.session_key),
        cursor=event.cursor,
        ts=timestamp(event.ts),
    )
    body = event.body
    if isinstance(body, SessionChanged):
        assert event.reason is not None
        snapshot = session_pb(event.session, view) if event.session is not None else None
        pb.session_changed.CopyFrom(
            events_pb2.SessionChanged(reason=_REASON[event.reason], session=snapshot)
        )
        return pb
    pb.run_id = event.run_id
    _fill_body(pb, body)
    return pb


def _fill_body(pb: events_pb2.ChatEvent, body: EventBody) -> None:
    if isinstance(body, Final):
        pb.final.CopyFrom(
            events_pb2.Final(
                message=message_pb(body.message) if body.message is not None else None,
                stop_reason=body.stop_reason,
                usage=usage_pb(body.usage),
            )
        )
    elif isinstance(body, RunStarted):
        pb.run_started.CopyFrom(
            events_pb2.RunStarted(message_seq=body.message_seq, session_id=body.session_id)
        )
    elif isinstance(body, RunError):
        pb.error.CopyFrom(
            events_pb2.RunError(
                error_message=body.error_message,
                error_kind=body.error_kind,
                stop_reason=body.stop_reason,
            )
        )
    elif isinstance(body, RunAborted):
        pb.aborted.CopyFrom(
            events_pb2.Aborted(
                stop_reason=body.stop_reason, partial_message_seq=body.partial_message_seq
            )
        )
    elif isinstance(body, ToolEvent):
        pb.tool.CopyFrom(_tool_pb(body))
    elif isinstance(body, Compaction):
        pb.compaction.CopyFrom(_compaction_pb(body))
    elif isinstance(body, HistoryOmitted):
        pb.history_omitted.CopyFrom(
            events_pb2.HistoryOmitted(
                omitted_entries=body.omitted_entries,
                estimated_tokens=body.estimated_tokens,
                budget_tokens=body.budget_tokens,
            )
        )


def _tool_pb(body: ToolEvent) -> events_pb2.ToolEvent:
    return events_pb2.ToolEvent(
        phase=_TOOL_PHASE[body.phase],
        tool_call_id=body.tool_call_id,
        name=body.name,
        input=body.input,
        result=body.result,
        is_error=body.is_error,
        cancelled=body.cancelled,
    )


def _compaction_pb(body: Compaction) -> events_pb2.Compaction:
    return events_pb2.Compaction(
        checkpoint_id=body.checkpoint_id,
        replaced_from_seq=body.replaced_from_seq,
        replaced_to_seq=body.replaced_to_seq,
        summary=body.summary,
        tokens_before=body.tokens_before,
        tokens_after=body.tokens_after,
        session_id=body.session_id,
        automatic=body.automatic,
    )


def live_delta_pb(delta: LiveDelta, cursor: int, view: KeyView) -> events_pb2.ChatEvent:
    """A non-durable delta; it carries the cursor of the last durable event sent."""
    return events_pb2.ChatEvent(
        session_key=view(delta.session_key),
        run_id=delta.run_id,
        cursor=cursor,
        ts=timestamp(delta.ts),
        delta=events_pb2.Delta(text=delta.text, offset=delta.offset, thinking=delta.thinking),
    )


def heartbeat_pb(session_key: str, ts: int, cursor: int, view: KeyView) -> events_pb2.ChatEvent:
    return events_pb2.ChatEvent(
        session_key=view(session_key),
        cursor=cursor,
        ts=timestamp(ts),
        heartbeat=events_pb2.Heartbeat(),
    )
