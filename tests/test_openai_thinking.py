"""Thinking with the `openai` backend: the thinking level reaches the provider as
`reasoning_effort`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from fake_openai import FakeOpenAI
from google.protobuf import field_mask_pb2
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, session_service_pb2_grpc
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
