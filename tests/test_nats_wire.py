"""The NATS bus's encoding: every message the bus carries comes back equal, and every topic
maps to its own valid subject (no server needed)."""

from __future__ import annotations

import pytest
from sessiond.bus.nats.subjects import check_prefix, subject_of
from sessiond.bus.nats.wire import decode, encode
from sessiond.domain.events import (
    Compaction,
    Event,
    EventBody,
    EventRef,
    Final,
    LiveDelta,
    RunAborted,
    RunCommand,
    RunCommandAction,
    RunError,
    RunStarted,
    SessionChanged,
    ToolEvent,
    ToolPhase,
)
from sessiond.domain.models import (
    Attachment,
    Message,
    PluginEntry,
    QueueMode,
    Role,
    Session,
    SessionEventReason,
    SessionStatus,
    Usage,
)

USAGE = Usage(12, 34, 46, 1000, 0.25)
SESSION = Session(
    key="agent:main:ünï:code",
    session_id="sid-2",
    agent_id="main",
    created_at=1,
    updated_at=2,
    etag="e1",
    label="Grüße 🌍",
    queue_mode=QueueMode.INTERRUPT,
    status=SessionStatus.RUNNING,
    active_run_id="run-1",
    usage=USAGE,
    metadata={"a": "b"},
    plugin_state=(PluginEntry("p", "ns", {"nested": [1, 2.5, None, "x"]}),),
    instance_id="i1",
)
MESSAGE = Message(
    session_id="sid-2",
    seq=7,
    role=Role.ASSISTANT,
    text="line one\nline two \u0000? no: \t tab, emoji 🌍",
    created_at=3,
    run_id="run-1",
    usage=USAGE,
    stop_reason="completed",
    attachments=(Attachment("image/png", b"\x89PNG\x00\xff", "a.png"),),
)
BODIES: list[EventBody] = [
    RunStarted(6, "sid-2"),
    ToolEvent(ToolPhase.START, "call-1", "search", '{"q": "x"}'),
    ToolEvent(ToolPhase.END, "call-1", result="done", is_error=True, cancelled=True),
    Final("completed", MESSAGE, USAGE),
    Final("silent"),
    RunError("boom", "rate_limit", "error"),
    RunAborted("aborted", 8),
    Compaction("cp-1", 1, 5, "summary", 900, 100, "sid-3", automatic=True),
]


@pytest.mark.parametrize("body", BODIES, ids=lambda body: type(body).__name__)
def test_an_event_comes_back_equal(body: EventBody) -> None:
    event = Event(41, SESSION.key, 9, 1234, body, run_id="run-1")
    assert decode(encode(event)) == event


def test_a_session_change_comes_back_with_its_reason_and_snapshot() -> None:
    event = Event(42, SESSION.key, 10, 1235, SessionChanged(), "", SessionEventReason.SEND, SESSION)
    decoded = decode(encode(event))
    assert decoded == event
    assert isinstance(decoded, Event)
    assert decoded.reason is SessionEventReason.SEND


@pytest.mark.parametrize("thinking", [False, True])
def test_a_live_delta_comes_back_equal(thinking: bool) -> None:
    delta = LiveDelta(SESSION.key, "run-1", "Grüß dich 🌍", 17, 99, thinking)
    assert decode(encode(delta)) == delta


@pytest.mark.parametrize(
    "command",
    [
        RunCommand("run-1", RunCommandAction.STOP, "interrupted"),
        RunCommand("run-2", RunCommandAction.SNAPSHOT),
    ],
)
def test_a_run_command_comes_back_equal(command: RunCommand) -> None:
    assert decode(encode(command)) == command


def test_an_event_reference_comes_back_equal() -> None:
    event = Event(41, SESSION.key, 9, 1234, Final("completed", MESSAGE, USAGE), run_id="run-1")
    reference = EventRef.of(event)
    assert (reference.global_seq, reference.cursor, reference.run_id) == (41, 9, "run-1")
    assert decode(encode(reference)) == reference


def test_only_events_deltas_and_commands_are_carried() -> None:
    with pytest.raises(TypeError, match="events, event references, live deltas and run"):
        encode({"text": "hi"})


def test_every_topic_has_a_valid_subject_of_its_own() -> None:
    keys = ["agent:main:main", "agent:main:a.b", "agent:main:*", "a>b", "x y", "", "::", "ü"]
    topics = [f"chat:{key}" for key in keys] + ["feed", "chat", "Chat:x", "_:x", "_", "a.b"]
    topics += ["control:replica-1", "control:"]
    subjects = [subject_of("sessiond", topic) for topic in topics]
    assert len(set(subjects)) == len(topics)
    for subject in subjects:
        tokens = subject.split(".")
        assert tokens[0] == "sessiond"
        assert all(tokens), subject
        assert not any(c in subject for c in " \t\r\n*>"), subject
    assert subject_of("sessiond", "feed") == "sessiond.feed"
    assert subject_of("sessiond", "chat:agent:main:main") == "sessiond.chat.YWdlbnQ6bWFpbjptYWlu"


@pytest.mark.parametrize("prefix", ["", "a..b", "a.*", "a b", "a.>", ".a"])
def test_a_bad_prefix_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="subject prefix"):
        check_prefix(prefix)
