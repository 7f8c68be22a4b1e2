"""What the `openai` backend sends a strict provider: the conversation in the order it
happened, each tool call answered at once, ending with the question being answered.

The fake provider is strict (`openai_rules`): a request breaking a rule is answered 400
and fails the test (the `fake` fixture)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from fake_openai import FakeOpenAI, Reply
from helpers import wait_run
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

SYSTEM = {"role": "system", "content": "Be brief."}
SLOW = 0.2
"""Seconds between the chunks of a reply that must still be streaming when the test
sends its next question (the fake provider's pace; the test waits on runs, not on time)."""


@pytest.fixture
def config(config: Config, fake: FakeOpenAI) -> Config:
    gpt = AgentConfig(
        backend="openai", base_url=fake.base_url, model="fake-model", system_prompt="Be brief."
    )
    tight = replace(gpt, context_tokens=200)
    return replace(config, agents={"main": AgentConfig(), "gpt": gpt, "tight": tight})


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def _roles(messages: list[dict[str, Any]]) -> list[str]:
    return [m["role"] for m in messages]


async def _session(sessions: session_service_pb2_grpc.SessionServiceStub) -> str:
    created = await sessions.CreateSession(spb.CreateSessionRequest(agent_id="gpt"))
    return created.session.key


async def _send(chat: chat_service_pb2_grpc.ChatServiceStub, key: str, text: str) -> Any:
    return await chat.Send(cpb.SendRequest(session_key=key, text=text))


async def _ask(chat: chat_service_pb2_grpc.ChatServiceStub, key: str, text: str) -> None:
    """Sends `text` and waits for its run, which must complete."""
    sent = await _send(chat, key, text)
    run = await wait_run(chat, sent.run_id)
    assert run.status == resources_pb2.RUN_STATUS_DONE, run


async def test_a_queued_question_comes_after_the_reply_it_waited_for(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """The transcript is Q1, Q2, A1 (Q2 stored at Send time); Q2's run sends Q1, A1, Q2."""
    fake.replies += [Reply(chunks=["first ", "answer"], chunk_delay_s=SLOW), Reply(["second"])]
    key = await _session(sessions)
    first = await _send(chat, key, "Q1")
    second = await _send(chat, key, "Q2")
    assert second.status == cpb.SEND_STATUS_QUEUED
    assert (await wait_run(chat, first.run_id)).status == resources_pb2.RUN_STATUS_DONE
    assert (await wait_run(chat, second.run_id)).status == resources_pb2.RUN_STATUS_DONE
    history = await sessions.ListMessages(spb.ListMessagesRequest(key=key))
    assert [m.text for m in history.messages] == ["Q1", "Q2", "first answer", "second"]
    assert fake.requests[0]["messages"] == [SYSTEM, _user("Q1")]
    assert fake.requests[1]["messages"] == [
        SYSTEM,
        _user("Q1"),
        _assistant("first answer"),
        _user("Q2"),
    ]


async def test_questions_queued_behind_a_run_wait_for_their_own(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """Q2 and Q3 queue behind Q1: Q2's run leaves Q3 out; Q3's run sends both replies."""
    fake.replies += [Reply(["A1"], chunk_delay_s=SLOW), Reply(["A2"]), Reply(["A3"])]
    key = await _session(sessions)
    await _send(chat, key, "Q1")
    await _send(chat, key, "Q2")
    third = await _send(chat, key, "Q3")
    assert third.status == cpb.SEND_STATUS_QUEUED
    await wait_run(chat, third.run_id)
    two, three = fake.requests[1]["messages"], fake.requests[2]["messages"]
    assert two == [SYSTEM, _user("Q1"), _assistant("A1"), _user("Q2")]
    assert three == [*two, _assistant("A2"), _user("Q3")]


async def test_a_later_question_keeps_the_order_of_earlier_queued_ones(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """Each earlier queued question stays after the reply its run waited for, in every
    later request (not only in its own run's)."""
    fake.replies += [Reply(["A1"], chunk_delay_s=SLOW), Reply(["A2"]), Reply(["A3"])]
    key = await _session(sessions)
    await _send(chat, key, "Q1")
    queued = await _send(chat, key, "Q2")
    await wait_run(chat, queued.run_id)
    await _ask(chat, key, "Q3")
    assert fake.requests[2]["messages"] == [
        SYSTEM,
        _user("Q1"),
        _assistant("A1"),
        _user("Q2"),
        _assistant("A2"),
        _user("Q3"),
    ]


async def test_tool_calls_of_one_reply_are_each_followed_by_their_result(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """Two calls in one reply, nobody ran the tools: each call's entries (the call and its
    cancelled result) are written at its end, so the next request has each call followed
    at once by its result, in the order the model made them."""
    calls = [("call_a", "lookup", '{"q": "a"}'), ("call_b", "lookup", '{"q": "b"}')]
    fake.replies += [Reply(chunks=["Checking."], tool_calls=calls), Reply(["done"])]
    key = await _session(sessions)
    await _ask(chat, key, "look up a and b")
    await _ask(chat, key, "and now?")
    sent = fake.requests[1]["messages"]
    assert _roles(sent) == [
        "system",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
        "user",
    ]
    assert [sent[i]["tool_calls"][0]["id"] for i in (2, 4)] == ["call_a", "call_b"]
    assert [sent[i]["tool_calls"][0]["function"]["arguments"] for i in (2, 4)] == [
        '{"q": "a"}',
        '{"q": "b"}',
    ]
    assert [sent[i]["tool_call_id"] for i in (3, 5)] == ["call_a", "call_b"]
    assert sent[6:] == [_assistant("Checking."), _user("and now?")]


async def test_a_question_queued_during_a_tool_call_comes_after_its_result(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """Q2 is stored while Q1's reply streams, before its tool call and result: Q2's run
    sends the call, its result and the reply before Q2."""
    reply = Reply(["Let ", "me ", "check."], [("call_1", "lookup", "{}")], chunk_delay_s=SLOW)
    fake.replies += [reply, Reply(["done"])]
    key = await _session(sessions)
    await _send(chat, key, "Q1")
    queued = await _send(chat, key, "Q2")
    assert queued.status == cpb.SEND_STATUS_QUEUED
    assert (await wait_run(chat, queued.run_id)).status == resources_pb2.RUN_STATUS_DONE
    sent = fake.requests[1]["messages"]
    assert _roles(sent) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert sent[2]["tool_calls"][0]["id"] == sent[3]["tool_call_id"] == "call_1"
    assert sent[4:] == [_assistant("Let me check."), _user("Q2")]


async def test_a_tool_result_whose_call_was_compacted_away_is_not_sent(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    fake.replies += [Reply(chunks=["Checking."], tool_calls=[("call_1", "lookup", "{}")])]
    key = await _session(sessions)
    await _ask(chat, key, "look it up")
    # The transcript is question, call, result, reply: keep the result and the reply.
    await sessions.CompactSession(spb.CompactSessionRequest(key=key, max_lines=2))
    await _ask(chat, key, "and now?")
    assert fake.requests[1]["messages"] == [SYSTEM, _assistant("Checking."), _user("and now?")]


async def test_a_summary_of_a_transcript_with_open_tool_calls_is_a_valid_request(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    calls = [("call_a", "lookup", "{}"), ("call_b", "lookup", "{}")]
    fake.replies += [Reply(chunks=["Checking."], tool_calls=calls), Reply(["A summary."])]
    key = await _session(sessions)
    await _ask(chat, key, "look up a and b")
    compacted = await sessions.CompactSession(spb.CompactSessionRequest(key=key, keep_recent=1))
    assert compacted.compacted
    sent = fake.requests[1]["messages"]
    assert _roles(sent)[:6] == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert sent[-1]["role"] == "user"


async def test_a_summary_request_keeps_to_the_agents_context_budget(
    fake: FakeOpenAI,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """200 tokens, the system prompt and the instruction's room taken: the newest older
    question and its reply fit (50 tokens each), not the one before; the cut is at a
    question."""
    turns = [(f"Q{i} " + "q" * 197, f"A{i} " + "a" * 197) for i in range(1, 5)]
    fake.replies += [Reply([answer]) for _, answer in turns]
    fake.replies.append(Reply(["A summary."]))
    created = await sessions.CreateSession(spb.CreateSessionRequest(agent_id="tight"))
    key = created.session.key
    for question, _ in turns:
        await _ask(chat, key, question)
    compacted = await sessions.CompactSession(spb.CompactSessionRequest(key=key, keep_recent=2))
    assert compacted.compacted
    summary_request = fake.requests[-1]["messages"]
    (q3, a3), (q4, a4) = turns[2], turns[3]
    assert summary_request[:3] == [SYSTEM, _user(q3), _assistant(a3)]
    assert _roles(summary_request) == ["system", "user", "assistant", "user"]
    history = await sessions.ListMessages(spb.ListMessagesRequest(key=key))
    assert [m.text for m in history.messages] == ["A summary.", q4, a4]
