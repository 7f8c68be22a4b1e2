"""Thinking with the `openai` backend: the thinking level reaches the provider as
`reasoning_effort`; the reasoning level decides whether thinking is streamed and kept."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply
from google.protobuf import field_mask_pb2
from helpers import StreamReader, list_messages
from sessiond import config as config_module
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    server = FakeOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def config(config: Config, fake: FakeOpenAI) -> Config:
    def agent(reasoning_effort: bool) -> AgentConfig:
        return AgentConfig(
            backend="openai",
            base_url=fake.base_url,
            model="fake-model",
            reasoning_effort=reasoning_effort,
        )

    agents = {"main": AgentConfig(), "thinker": agent(True), "plain": agent(False)}
    return replace(config, agents=agents)


async def _session(
    sessions: session_service_pb2_grpc.SessionServiceStub, agent_id: str, **levels: str
) -> str:
    key: str = (
        await sessions.CreateSession(spb.CreateSessionRequest(agent_id=agent_id))
    ).session.key
    if levels:
        await sessions.UpdateSession(
            spb.UpdateSessionRequest(
                key=key,
                update=spb.SessionUpdate(**levels),
                update_mask=field_mask_pb2.FieldMask(paths=list(levels)),
            )
        )
    return key


async def _chat(
    chat: chat_service_pb2_grpc.ChatServiceStub, key: str, text: str, thinking: str = ""
) -> list[events_pb2.ChatEvent]:
    request = cpb.ChatRequest(session_key=key, text=text, thinking=thinking)
    return [r.event async for r in chat.Chat(request)]


@pytest.mark.parametrize(
    ("agent_id", "level", "override", "effort"),
    [
        ("thinker", "high", "", "high"),
        ("thinker", "high", "low", "low"),  # the run's override wins
        ("thinker", "off", "", "none"),
        ("thinker", "xhigh", "", "xhigh"),
        ("thinker", "adaptive", "", None),  # the provider decides
        ("thinker", "", "", None),
        ("plain", "high", "", None),  # the agent's models take no reasoning effort
    ],
)
async def test_thinking_level_reaches_the_provider_as_reasoning_effort(
    agent_id: str,
    level: str,
    override: str,
    effort: str | None,
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key = await _session(sessions, agent_id, **({"thinking_level": level} if level else {}))
    events = await _chat(chat, key, "think", thinking=override)
    assert events[-1].HasField("final"), events[-1]
    assert fake.requests[-1].get("reasoning_effort") == effort


@pytest.mark.parametrize(("value", "loaded"), [("true", True), ("false", False), ('"yes"', None)])
def test_reasoning_effort_is_an_agent_setting(
    value: str, loaded: bool | None, tmp_path: Path
) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text(f'[agents.main]\nbackend = "openai"\nreasoning_effort = {value}\n')
    env = {"SESSIOND_CONFIG": str(toml)}
    if loaded is None:
        with pytest.raises(
            config_module.ConfigError, match="reasoning_effort must be true or false"
        ):
            config_module.load(env)
    else:
        assert config_module.load(env).agents["main"].reasoning_effort is loaded


THOUGHTS = ["The user ", "wants a ", "greeting."]


@pytest.mark.parametrize(
    ("reasoning_level", "streamed", "kept"),
    [("", False, False), ("off", False, False), ("on", False, True), ("stream", True, True)],
)
async def test_reasoning_level_decides_what_thinking_is_streamed_and_kept(
    reasoning_level: str,
    streamed: bool,
    kept: bool,
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    levels = {"reasoning_level": reasoning_level} if reasoning_level else {}
    key = await _session(sessions, "plain", **levels)
    fake.replies.append(Reply(reasoning=THOUGHTS, chunks=["Hello!"]))
    events = await _chat(chat, key, "hi")
    deltas = [e.delta for e in events if e.HasField("delta")]
    thinking = "".join(d.text for d in deltas if d.thinking)
    assert thinking == ("".join(THOUGHTS) if streamed else "")
    assert "".join(d.text for d in deltas if not d.thinking) == "Hello!"
    assert events[-1].final.message.text == "Hello!"
    transcript = await list_messages(sessions, key)
    roles = [m.role for m in transcript]
    if kept:
        assert roles == [
            resources_pb2.ROLE_USER,
            resources_pb2.ROLE_THINKING,
            resources_pb2.ROLE_ASSISTANT,
        ]
        assert transcript[1].text == "".join(THOUGHTS)
    else:
        assert roles == [resources_pb2.ROLE_USER, resources_pb2.ROLE_ASSISTANT]

    # Thinking is never sent back to the model.
    await _chat(chat, key, "again")
    sent = fake.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert all("greeting." not in str(m["content"]) for m in sent)


async def test_an_aborted_run_keeps_its_thinking_so_far(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key = await _session(sessions, "plain", reasoning_level="stream")
    fake.replies.append(Reply(reasoning=["Hmm, "], hold=asyncio.Event()))
    async with StreamReader(chat.Chat(cpb.ChatRequest(session_key=key, text="hi"))) as events:
        await events.read_until(lambda r: r.event.HasField("delta") and r.event.delta.thinking)
        await chat.Abort(cpb.AbortRequest(session_key=key))
        last = (await events.read_until(lambda r: r.event.HasField("aborted")))[-1].event
    assert last.aborted.partial_message_seq == 0, "no reply text: no partial reply"
    transcript = await list_messages(sessions, key)
    assert [(m.role, m.text) for m in transcript][1:] == [(resources_pb2.ROLE_THINKING, "Hmm, ")]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_thinking_is_read_from_either_field_providers_use(
    field: str,
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key = await _session(sessions, "plain", reasoning_level="stream")
    fake.replies.append(Reply(reasoning=THOUGHTS, reasoning_field=field, chunks=["Hi"]))
    events = await _chat(chat, key, "hi")
    thinking = "".join(e.delta.text for e in events if e.HasField("delta") and e.delta.thinking)
    assert thinking == "".join(THOUGHTS)
