"""Bus messages <-> NATS payloads: compact JSON (orjson) of the domain objects.

A durable event is its envelope plus the payload the store keeps
(`domain.codec.event_payload`), so a replica decodes it exactly as it reads it from the
store; a live delta and a run command (to the replica executing a run) are their fields;
an event reference (a durable event too large for NATS) is its positions. `"v"` is this
encoding's version: a message of another version (from a replica of another release) is
refused (ValueError) and dropped by the bus like a message lost in transit; the store
still holds every durable event.
"""

from __future__ import annotations

from typing import Any

import orjson
from sessiond.domain.codec import event_from_payload, event_payload
from sessiond.domain.events import (
    Event,
    EventKind,
    EventRef,
    LiveDelta,
    RunCommand,
    RunCommandAction,
)
from sessiond.domain.models import SessionEventReason

WIRE_VERSION = 1


Message = Event | EventRef | LiveDelta | RunCommand


def encode(message: object) -> bytes:
    """The payload of `message`: an `Event`, an `EventRef`, a `LiveDelta` or a `RunCommand`
    (TypeError otherwise)."""
    if isinstance(message, LiveDelta):
        data: dict[str, Any] = {
            "v": WIRE_VERSION,
            "t": "delta",
            "key": message.session_key,
            "run": message.run_id,
            "text": message.text,
            "offset": message.offset,
            "ts": message.ts,
            "thinking": message.thinking,
        }
    elif isinstance(message, Event):
        data = {
            "v": WIRE_VERSION,
            "t": "event",
            "key": message.session_key,
            "cursor": message.cursor,
            "seq": message.global_seq,
            "ts": message.ts,
            "run": message.run_id,
            "kind": message.kind.value,
            "reason": message.reason.value if message.reason is not None else None,
            "payload": event_payload(message.body, message.session),
        }
    elif isinstance(message, EventRef):
        data = {
            "v": WIRE_VERSION,
            "t": "ref",
            "key": message.session_key,
            "cursor": message.cursor,
            "seq": message.global_seq,
            "run": message.run_id,
        }
    elif isinstance(message, RunCommand):
        data = {
            "v": WIRE_VERSION,
            "t": "command",
            "run": message.run_id,
            "action": message.action.value,
            "reason": message.stop_reason,
        }
    else:
        raise TypeError(
            "the NATS bus carries events, event references, live deltas and run commands,"
            f" not {type(message)!r}"
        )
    return orjson.dumps(data)


def decode(payload: bytes) -> Message:
    """The message of a payload; ValueError (or KeyError, TypeError) when it is not one."""
    data = orjson.loads(payload)
    if not isinstance(data, dict):
        raise ValueError("a bus message is a JSON object")
    version = data.get("v", 0)
    if version != WIRE_VERSION:
        raise ValueError(f"bus message version {version} is not {WIRE_VERSION}")
    kind = data["t"]
    if kind == "delta":
        return LiveDelta(
            data["key"], data["run"], data["text"], data["offset"], data["ts"], data["thinking"]
        )
    if kind == "event":
        body, session = event_from_payload(EventKind(data["kind"]), data["payload"])
        reason = data["reason"]
        return Event(
            data["seq"],
            data["key"],
            data["cursor"],
            data["ts"],
            body,
            data["run"],
            SessionEventReason(reason) if reason is not None else None,
            session,
        )
    if kind == "ref":
        return EventRef(data["seq"], data["key"], data["cursor"], data["run"])
    if kind == "command":
        return RunCommand(data["run"], RunCommandAction(data["action"]), data["reason"])
    raise ValueError(f"unknown bus message type {kind!r}")
