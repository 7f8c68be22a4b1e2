"""Records and events <-> JSON-ready dicts: the stored encoding of the domain.

The hot records (sessions, messages, runs, usage) are copied field by field rather than
by `dataclasses.asdict`, which deep-copies recursively: every Send and every run end
writes several of them (session snapshots in events, run rows). The result is the same
dict, keys in field order.
"""

from __future__ import annotations

import base64
import copy
from dataclasses import asdict, fields
from typing import Any

from sessiond.domain.events import (
    Compaction,
    EventBody,
    EventKind,
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

_USAGE_FIELDS = tuple(f.name for f in fields(Usage))
_SESSION_FIELDS = tuple(f.name for f in fields(Session))
_MESSAGE_FIELDS = tuple(f.name for f in fields(Message))
_RUN_FIELDS = tuple(f.name for f in fields(Run))


def usage_to_dict(usage: Usage) -> dict[str, Any]:
    return {name: getattr(usage, name) for name in _USAGE_FIELDS}


def usage_from_dict(data: dict[str, Any] | None) -> Usage:
    return Usage(**data) if data else Usage()


def session_to_dict(session: Session) -> dict[str, Any]:
    data = {name: getattr(session, name) for name in _SESSION_FIELDS}
    data["usage"] = usage_to_dict(session.usage)
    data["metadata"] = dict(session.metadata)
    data["plugin_state"] = [
        {
            "plugin_id": entry.plugin_id,
            "namespace": entry.namespace,
            "value": copy.deepcopy(entry.value),
        }
        for entry in session.plugin_state
    ]
    return data


def session_from_dict(data: dict[str, Any]) -> Session:
    fields = dict(data)
    fields["usage"] = usage_from_dict(fields.get("usage"))
    fields["send_policy"] = SendPolicy(fields.get("send_policy", SendPolicy.ALLOW))
    fields["queue_mode"] = QueueMode(fields.get("queue_mode", QueueMode.ENQUEUE))
    fields["status"] = SessionStatus(fields.get("status", SessionStatus.IDLE))
    fields["plugin_state"] = tuple(PluginEntry(**e) for e in fields.get("plugin_state", ()))
    return Session(**fields)


def attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    return {
        "mime_type": attachment.mime_type,
        "data": base64.b64encode(attachment.data).decode("ascii"),
        "file_name": attachment.file_name,
    }


def attachment_from_dict(data: dict[str, Any]) -> Attachment:
    return Attachment(
        mime_type=data["mime_type"],
        data=base64.b64decode(data["data"]),
        file_name=data.get("file_name", ""),
    )


def message_to_dict(message: Message) -> dict[str, Any]:
    data = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    data["usage"] = usage_to_dict(message.usage) if message.usage is not None else None
    data["attachments"] = [attachment_to_dict(a) for a in message.attachments]
    return data


def message_from_dict(data: dict[str, Any]) -> Message:
    fields = dict(data)
    fields["role"] = Role(fields["role"])
    usage = fields.get("usage")
    fields["usage"] = usage_from_dict(usage) if usage else None
    fields["attachments"] = tuple(attachment_from_dict(a) for a in fields.get("attachments", ()))
    return Message(**fields)


def run_to_dict(run: Run) -> dict[str, Any]:
    data = {name: getattr(run, name) for name in _RUN_FIELDS}
    data["usage"] = usage_to_dict(run.usage)
    return data


def run_from_dict(data: dict[str, Any]) -> Run:
    fields = dict(data)
    fields["status"] = RunStatus(fields["status"])
    fields["usage"] = usage_from_dict(fields.get("usage"))
    return Run(**fields)


def checkpoint_to_dict(checkpoint: Checkpoint) -> dict[str, Any]:
    return asdict(checkpoint)


def checkpoint_from_dict(data: dict[str, Any]) -> Checkpoint:
    return Checkpoint(**data)


# -- events -----------------------------------------------------------------------------
#
# An event's payload is {"v": EVENT_VERSION, "body": {...}, "session": {...}}: the body's
# fields by name, and for a session change the session after it. Version 0 is the same
# shape without "v" (rows written before the bodies were typed), read alike.

EVENT_VERSION = 1

_BODY_OF_KIND: dict[EventKind, type[EventBody]] = {
    EventKind.RUN_STARTED: RunStarted,
    EventKind.TOOL: ToolEvent,
    EventKind.FINAL: Final,
    EventKind.ERROR: RunError,
    EventKind.ABORTED: RunAborted,
    EventKind.SESSION_CHANGED: SessionChanged,
    EventKind.COMPACTION: Compaction,
    EventKind.HISTORY_OMITTED: HistoryOmitted,
}


def body_to_dict(body: EventBody) -> dict[str, Any]:
    if isinstance(body, Final):
        return {
            "message": message_to_dict(body.message) if body.message is not None else None,
            "stop_reason": body.stop_reason,
            "usage": usage_to_dict(body.usage),
        }
    if isinstance(body, SessionChanged):
        return {}
    return asdict(body)


def body_from_dict(kind: EventKind, data: dict[str, Any]) -> EventBody:
    if kind is EventKind.FINAL:
        message = data.get("message")
        return Final(
            stop_reason=data.get("stop_reason", ""),
            message=message_from_dict(message) if message else None,
            usage=usage_from_dict(data.get("usage")),
        )
    if kind is EventKind.TOOL:
        return ToolEvent(**{**data, "phase": ToolPhase(data["phase"])})
    return _BODY_OF_KIND[kind](**data)


def event_payload(body: EventBody, session: Session | None) -> dict[str, Any]:
    """The stored payload of an event (`session`: the snapshot of a session change)."""
    payload: dict[str, Any] = {"v": EVENT_VERSION, "body": body_to_dict(body)}
    if session is not None:
        payload["session"] = session_to_dict(session)
    return payload


def event_from_payload(
    kind: EventKind, payload: dict[str, Any]
) -> tuple[EventBody, Session | None]:
    """The body and snapshot of a stored payload, of any version up to EVENT_VERSION."""
    version = payload.get("v", 0)
    if version > EVENT_VERSION:
        raise ValueError(f"event payload version {version} is newer than this server reads")
    snapshot = payload.get("session")
    body = body_from_dict(kind, payload.get("body") or {})
    return body, session_from_dict(snapshot) if snapshot else None
