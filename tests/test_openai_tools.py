"""Tool calls of the `openai` backend, streamed as they arrive: START as soon as a call's
name is known, UPDATEs with its argument pieces, END when its arguments are complete;
Abort and Steer close a call left open."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from fake_openai import FakeOpenAI, Reply, StreamedCall
from helpers import StreamReader, body_of, list_messages, wait_run
from sessiond.agents.base import (
    AgentRequest,
    TextDelta,
    ToolEnd,
    ToolStart,
    ToolUpdate,
    UsageReport,
)
from sessiond.agents.openai_backend import OpenAIBackend
from sessiond.config import AgentConfig, Config
from sessiond.core.runs.tools import CANCELLED_TOOL_TEXT, UNANSWERED_TOOL_TEXT
from sessiond.domain.models import Message, Role
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

START, UPDATE, END = (
    events_pb2.TOOL_PHASE_START,
    events_pb2.TOOL_PHASE_UPDATE,
    events_pb2.TOOL_PHASE_END,
)
Events = StreamReader[cpb.WatchChatResponse]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def delta_interval_ms() -> int:
    return 150


@pytest.fixture
def config(config: Config, fake: FakeOpenAI, delta_interval_ms: int) -> Config:
    gpt = AgentConfig(backend="openai", base_url=fake.base_url, model="fake-model")
    agents = {"main": AgentConfig(), "gpt": gpt}
    return replace(config, agents=agents, delta_interval_ms=delta_interval_ms)


async def _session(sessions: session_service_pb2_grpc.SessionServiceStub) -> str:
    created = await sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt"))
    return created.session.key


@contextlib.asynccontextmanager
async def _watch(chat: chat_service_pb2_grpc.ChatServiceStub, key: str) -> AsyncIterator[Events]:
    """A WatchChat from the head, once it is live: a run sent after this is seen as it
    happens, not replayed with its reply so far as one snapshot delta at the end."""
    call = chat.WatchChat(cpb.WatchChatRequest(session_key=key, start_at_end=True))
    async with StreamReader[cpb.WatchChatResponse](call) as events:
        yield await events.live()


async def _read_arguments(
    events: Events, call_id: str, arguments: str
) -> list[events_pb2.ChatEvent]:
    """Events (heartbeats left out) read until the call's START and UPDATE inputs add up
    to `arguments`."""
    read: list[events_pb2.ChatEvent] = []
    received = ""
    while received != arguments:
        event = (await events.next()).event
        if body_of(event) == "heartbeat":
            continue
        read.append(event)
        if event.HasField("tool") and event.tool.tool_call_id == call_id:
            assert event.tool.phase in (START, UPDATE), event
            received += event.tool.input
    return read


async def test_backend_reports_each_call_as_it_streams(fake: FakeOpenAI) -> None:
    fake.replies.append(
        Reply(
            chunks=["Let me look. "],
            streamed_calls=[
                StreamedCall("call_a", "lookup", ['{"q"', ': "x"}']),
                StreamedCall("call_b", "fetch", ["{}"]),
            ],
        )
    )
    backend = OpenAIBackend(base_url=fake.base_url, api_key="", model="fake-model")
    request = AgentRequest("gpt", "", "", (Message("s", 1, Role.USER, "go", 0),))
    try:
        events = [e async for e in backend.stream(request) if not isinstance(e, UsageReport)]
    finally:
        await backend.close()
    assert events == [
        TextDelta("Let me look. "),
        ToolStart("call_a", "lookup", ""),
        ToolUpdate("call_a", input='{"q"'),
        ToolUpdate("call_a", input=': "x"}'),
        ToolEnd("call_a"),  # the next call started: this one's arguments are complete
        ToolStart("call_b", "fetch", ""),
        ToolUpdate("call_b", input="{}"),
        ToolEnd("call_b"),  # the choice's finish_reason
    ]


async def test_watchers_see_a_call_start_and_grow_before_the_stream_ends(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    hold = asyncio.Event()
    pieces = ['{"city": ', '"Paris", ', '"days": 3}']
    call = StreamedCall("call_1", "forecast", pieces)
    fake.replies.append(Reply(chunks=["Checking", " the sky. "], streamed_calls=[call], hold=hold))
    key = await _session(sessions)
    async with _watch(chat, key) as events:
        sent = await chat.Send(cpb.SendRequest(session_key=key, text="weather?"))
        # The provider holds its stream open: all this arrives before it ends.
        read = await _read_arguments(events, "call_1", "".join(pieces))
        bodies = [body_of(e) for e in read]
        assert "".join(e.delta.text for e in read if body_of(e) == "delta") == "Checking the sky. "
        first_tool = bodies.index("tool")
        assert "delta" not in bodies[first_tool:], "pending text goes out before the START"
        start = read[first_tool].tool
        assert (start.phase, start.name, start.input) == (START, "forecast", "")
        hold.set()
        rest = await events.read_until(lambda r: body_of(r.event) == "final")
    tools = [r.event.tool for r in rest if r.event.HasField("tool")]
    assert [t.phase for t in tools] == [END]
    assert (tools[0].input, tools[0].cancelled) == ("".join(pieces), False)
    assert (await wait_run(chat, sent.run_id)).status == resources_pb2.RUN_STATUS_DONE
    transcript = await list_messages(sessions, key)
    assert [m.role for m in transcript] == [
        resources_pb2.ROLE_USER,
        resources_pb2.ROLE_TOOL_CALL,
        resources_pb2.ROLE_TOOL_RESULT,
        resources_pb2.ROLE_ASSISTANT,
    ]
    assert (transcript[1].tool_name, transcript[1].tool_input) == ("forecast", "".join(pieces))
    assert (transcript[2].text, transcript[2].cancelled) == (UNANSWERED_TOOL_TEXT, True)


@pytest.mark.parametrize("delta_interval_ms", [10_000])
async def test_argument_pieces_are_coalesced_by_the_delta_interval(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    fake.replies.append(Reply(streamed_calls=[StreamedCall("c", "f", ['{"a"', ": 1", "}"])]))
    key = await _session(sessions)
    events = [r.event async for r in chat.Chat(cpb.ChatRequest(session_key=key, text="go"))]
    tools = [e.tool for e in events if e.HasField("tool")]
    # Within one interval the pieces wait; the END sends them first, as one UPDATE.
    assert [(t.phase, t.input) for t in tools] == [
        (START, ""),
        (UPDATE, '{"a": 1}'),
        (END, '{"a": 1}'),
    ]


async def _stop_during_open_call(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
    stop: str,
) -> tuple[str, str, list[events_pb2.ChatEvent]]:
    """Sends, waits until the call's arguments so far have been streamed, then stops the
    run with `stop` (Abort or Steer); returns the key, run id and events after the stop."""
    call = StreamedCall("call_1", "forecast", ['{"city": ', '"Par'])
    fake.replies.append(Reply(chunks=["Let me see. "], streamed_calls=[call], hold=asyncio.Event()))
    key = await _session(sessions)
    async with _watch(chat, key) as events:
        sent = await chat.Send(cpb.SendRequest(session_key=key, text="weather?"))
        await _read_arguments(events, "call_1", '{"city": "Par')
        if stop == "abort":
            await chat.Abort(cpb.AbortRequest(session_key=key))
        else:
            fake.replies.append(Reply(chunks=["Sure."]))
            await chat.Steer(cpb.SteerRequest(session_key=key, text="no, Rome"))
        after = await events.read_until(
            lambda r: body_of(r.event) == "aborted" and r.event.run_id == sent.run_id
        )
    return key, sent.run_id, [r.event for r in after if body_of(r.event) != "heartbeat"]


@pytest.mark.parametrize(("stop", "reason"), [("abort", "aborted"), ("steer", "interrupted")])
async def test_stopping_a_run_closes_its_open_call(
    stop: str,
    reason: str,
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key, run_id, after = await _stop_during_open_call(fake, sessions, chat, stop)
    bodies = [body_of(e) for e in after]
    assert bodies[-2:] == ["tool", "aborted"], bodies
    end = after[-2].tool
    assert (end.phase, end.tool_call_id, end.name) == (END, "call_1", "forecast")
    assert (end.cancelled, end.input) == (True, '{"city": "Par')
    assert after[-1].aborted.stop_reason == reason
    run = await wait_run(chat, run_id)
    assert (run.status, run.stop_reason) == (resources_pb2.RUN_STATUS_ABORTED, reason)
    transcript = [m for m in await list_messages(sessions, key) if m.run_id == run_id]
    assert [m.role for m in transcript] == [
        resources_pb2.ROLE_USER,
        resources_pb2.ROLE_TOOL_CALL,
        resources_pb2.ROLE_TOOL_RESULT,
        resources_pb2.ROLE_ASSISTANT,
    ]
    _, call, result, partial = transcript
    # Cut-off arguments are not kept in the transcript: the next request stays valid.
    assert (call.tool_call_id, call.tool_name, call.tool_input) == ("call_1", "forecast", "")
    assert (result.tool_call_id, result.text, result.cancelled) == (
        "call_1",
        CANCELLED_TOOL_TEXT,
        True,
    )
    assert (partial.text, partial.stop_reason) == ("Let me see. ", reason)
    # Durable: a client that reconnects from the start sees the call open and close.
    replay = StreamReader(chat.WatchChat(cpb.WatchChatRequest(session_key=key)))
    async with replay:
        replayed = await replay.read_until(
            lambda r: body_of(r.event) == "aborted" and r.event.run_id == run_id
        )
    tools = [r.event.tool for r in replayed if r.event.HasField("tool")]
    assert tools[0].phase == START
    assert tools[-1] == end
    assert "".join(t.input for t in tools[:-1]) == '{"city": "Par'


async def test_the_turn_after_a_steer_answers_the_cancelled_call(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key, _, _ = await _stop_during_open_call(fake, sessions, chat, "steer")
    runs = await chat.ListRuns(cpb.ListRunsRequest(session_key=key))
    await wait_run(chat, runs.runs[0].run_id)
    messages = fake.requests[-1]["messages"]
    asked = next(m for m in messages if m.get("tool_calls"))
    assert asked["tool_calls"][0]["id"] == "call_1"
    assert asked["tool_calls"][0]["function"]["arguments"] == "{}"
    answer = messages[messages.index(asked) + 1]
    assert (answer["role"], answer["tool_call_id"]) == ("tool", "call_1")
    assert messages[-1] == {"role": "user", "content": "no, Rome"}
