"""The `openai` backend against a local OpenAI-compatible server (the only fake)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fake_openai import FakeOpenAI, Reply
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb


@pytest.fixture
def config(config: Config, fake: FakeOpenAI) -> Config:
    gpt = AgentConfig(
        backend="openai",
        base_url=fake.base_url,
        model="fake-model",
        system_prompt="Be brief.",
        request_timeout_s=0.5,
        price_input_per_mtok=1.0,
        price_output_per_mtok=2.0,
    )
    return replace(config, agents={"main": AgentConfig(), "gpt": gpt})


async def _session(sessions: session_service_pb2_grpc.SessionServiceStub) -> str:
    created = await sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt"))
    return created.session.key


async def _chat(
    chat: chat_service_pb2_grpc.ChatServiceStub, key: str, text: str
) -> list[events_pb2.ChatEvent]:
    return [r.event async for r in chat.Chat(cpb.ChatRequest(session_key=key, text=text))]


async def test_streamed_text_usage_and_cost(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    fake.replies.append(Reply(chunks=["Hel", "lo ", "wor", "ld!"], usage=(11, 7)))
    key = await _session(sessions)
    events = await _chat(chat, key, "Say hello")
    text = "".join(e.delta.text for e in events if e.HasField("delta"))
    final = events[-1]
    assert final.HasField("final")
    assert text == final.final.message.text == "Hello world!"
    assert final.final.usage.input_tokens == 11
    assert final.final.usage.output_tokens == 7
    assert final.final.usage.estimated_cost_usd == pytest.approx((11 * 1.0 + 7 * 2.0) / 1e6)
    sent = fake.requests[0]
    assert sent["model"] == "fake-model"
    assert sent["stream"] is True
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][-1] == {"role": "user", "content": "Say hello"}
    session = (await sessions.GetSession(spb.GetSessionRequest(key=key))).session
    assert session.usage.total_tokens == 18


async def test_tool_call_recorded_and_text_flushed_before_it(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    fake.replies.append(
        Reply(chunks=["Let me check. "], tool_calls=[("call_1", "lookup", '{"q": "x"}')])
    )
    key = await _session(sessions)
    events = await _chat(chat, key, "look it up")
    kinds = [e.WhichOneof("body") for e in events]
    assert "tool" in kinds
    tool_index = kinds.index("tool")
    assert "delta" in kinds[:tool_index], "pending text must be flushed before tool START"
    start = events[tool_index].tool
    assert start.phase == events_pb2.TOOL_PHASE_START
    assert (start.tool_call_id, start.name) == ("call_1", "lookup")
    end = [e.tool for e in events if e.HasField("tool")][-1]
    assert end.phase == events_pb2.TOOL_PHASE_END
    assert (end.tool_call_id, end.input, end.cancelled) == ("call_1", '{"q": "x"}', False)
    history = await sessions.ListMessages(spb.ListMessagesRequest(key=key))
    call = next(m for m in history.messages if m.role == resources_pb2.ROLE_TOOL_CALL)
    assert (call.tool_call_id, call.tool_input) == ("call_1", '{"q": "x"}')
    result = next(m for m in history.messages if m.role == resources_pb2.ROLE_TOOL_RESULT)
    assert result.tool_call_id == "call_1"
    assert result.cancelled, "nobody ran the tool: its result says so"

    fake.replies.append(Reply(chunks=["done"]))
    await _chat(chat, key, "and now?")
    follow_up = fake.requests[1]["messages"]
    call = next(m for m in follow_up if m.get("tool_calls"))
    assert call["tool_calls"][0]["id"] == "call_1"
    answer = next(m for m in follow_up if m["role"] == "tool")
    assert answer["tool_call_id"] == "call_1"


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(status=429, error_code="rate_limit_exceeded"), "rate_limit"),
        (Reply(delay_s=2.0), "timeout"),
        (Reply(status=400, error_code="context_length_exceeded"), "context_length"),
        (Reply(status=500), "unknown"),
    ],
    ids=["429", "timeout", "context_length", "500"],
)
async def test_provider_errors_end_the_run_with_an_error_kind(
    reply: Reply,
    kind: str,
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    fake.replies.append(reply)
    key = await _session(sessions)
    events = await _chat(chat, key, "hi")
    last = events[-1]
    assert last.HasField("error"), last
    assert last.error.error_kind == kind
    assert last.error.stop_reason == "error"
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=last.run_id))).run
    assert run.status == resources_pb2.RUN_STATUS_ERROR
    assert run.error_kind == kind
    session = (await sessions.GetSession(spb.GetSessionRequest(key=key))).session
    assert session.status == resources_pb2.SESSION_STATUS_ERROR
    assert not session.has_active_run
