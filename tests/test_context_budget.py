"""A run sends as much of the newest history as its agent's `context_tokens` allows, cut
at a question, and says in its `history_omitted` event what it left out."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from helpers import body_of, read_to_end
from sessiond import config as config_module
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

SYSTEM_PROMPT = "Be brief."  # 9 characters: 3 tokens
BUDGET = 40
"""Tokens: the system prompt and three entries of 10 tokens (40 characters) each."""


def _text(name: str) -> str:
    """40 characters: 10 tokens."""
    return f"{name} ".ljust(40, ".")


@pytest.fixture
def config(config: Config, fake: FakeOpenAI) -> Config:
    gpt = AgentConfig(
        backend="openai",
        base_url=fake.base_url,
        model="fake-model",
        system_prompt=SYSTEM_PROMPT,
        context_tokens=BUDGET,
    )
    return replace(config, agents={"main": AgentConfig(), "gpt": gpt})


async def _turn(
    chat: chat_service_pb2_grpc.ChatServiceStub, fake: FakeOpenAI, key: str, n: int
) -> list[Any]:
    """Question `Qn` answered `An`; the run's events."""
    fake.replies.append(Reply([_text(f"A{n}")]))
    call = chat.Chat(cpb.ChatRequest(session_key=key, text=_text(f"Q{n}")))
    return [reply.event for reply in await read_to_end(call)]


async def _replay_until_final(
    chat: chat_service_pb2_grpc.ChatServiceStub, key: str, runs: int
) -> list[Any]:
    """The session's durable events from cursor 0 up to the `runs`-th final."""
    events: list[Any] = []
    stream = chat.WatchChat(cpb.WatchChatRequest(session_key=key, after_cursor=0))
    async with asyncio.timeout(10):
        async for reply in stream:
            events.append(reply.event)
            if sum(e.HasField("final") for e in events) == runs:
                break
    stream.cancel()
    return events


def _texts(messages: list[dict[str, Any]]) -> list[str]:
    return [str(m["content"]).split()[0] for m in messages]


async def test_the_oldest_turns_are_left_out_and_the_run_says_so(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key = (await sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt"))).session.key
    for n in (1, 2):
        events = await _turn(chat, fake, key, n)
        assert "history_omitted" not in map(body_of, events)
    assert _texts(fake.requests[1]["messages"]) == ["Be", "Q1", "A1", "Q2"]  # 33 tokens

    events = await _turn(chat, fake, key, 3)
    # 3 + Q3, A2, Q2 = 33; A1 would make 43. The cut is at Q2.
    assert _texts(fake.requests[2]["messages"]) == ["Be", "Q2", "A2", "Q3"]
    assert [body_of(e) for e in events] == ["run_started", "history_omitted", "delta", "final"]
    omitted = events[1].history_omitted
    assert (omitted.omitted_entries, omitted.estimated_tokens, omitted.budget_tokens) == (
        2,
        33,
        BUDGET,
    )
    assert events[1].run_id == events[0].run_id
    assert events[1].cursor == events[0].cursor + 1, "durable, right after run_started"

    await _turn(chat, fake, key, 4)
    assert _texts(fake.requests[3]["messages"]) == ["Be", "Q3", "A3", "Q4"]
    replayed = await _replay_until_final(chat, key, runs=4)
    counts = [e.history_omitted.omitted_entries for e in replayed if e.HasField("history_omitted")]
    assert counts == [2, 4], "stored, and replayed to a client that resumes"


async def test_a_question_over_the_budget_is_sent_alone(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    key = (await sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt"))).session.key
    await _turn(chat, fake, key, 1)
    fake.replies.append(Reply(["ok"]))
    long_question = " ".join(["long"] * 100)  # 499 characters: 125 tokens
    events = [
        reply.event
        for reply in await read_to_end(
            chat.Chat(cpb.ChatRequest(session_key=key, text=long_question))
        )
    ]
    assert fake.requests[1]["messages"] == [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": long_question},
    ]
    omitted = next(e.history_omitted for e in events if e.HasField("history_omitted"))
    assert (omitted.omitted_entries, omitted.estimated_tokens) == (2, 3 + 125)


def test_context_tokens_is_read_from_the_agent_table(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text('[agents.main]\nbackend = "echo"\ncontext_tokens = 8000\n')
    assert config_module.load({"SESSIOND_CONFIG": str(toml)}).agents["main"].context_tokens == 8000
    assert config_module.load({}).agents["main"].context_tokens == 32_000


@pytest.mark.parametrize("value", ["0", "-5", '"many"', "1.5"])
def test_a_bad_context_tokens_is_refused(tmp_path: Path, value: str) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text(f'[agents.main]\nbackend = "echo"\ncontext_tokens = {value}\n')
    with pytest.raises(config_module.ConfigError, match="agent main: context_tokens"):
        config_module.load({"SESSIOND_CONFIG": str(toml)})
