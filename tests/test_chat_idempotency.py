"""Idempotent Send and Chat: duplicates return the original run, Chat re-attaches to it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import grpc
import pytest
from helpers import (
    StreamReader,
    apply_delta,
    body_of,
    create_session,
    error_info,
    expect_error,
    list_messages,
    mixed_text,
    read_to_end,
    wait_run,
)
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc

pytestmark = pytest.mark.replicated  # also against three replicas (conftest.py)

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2


@pytest.fixture
def config(config: Config) -> Config:
    # 2 code points every 10 ms: a 300-character reply streams for about 1.5 s.
    return replace(config, echo_delay_ms=10, echo_chunk_chars=2)


def users(messages: list[R.Message]) -> list[R.Message]:
    return [m for m in messages if m.role == R.ROLE_USER]


def reply_of(events: list[events_pb2.ChatEvent], run_id: str) -> str:
    texts: dict[str, str] = {}
    for event in events:
        if body_of(event) == "delta":
            apply_delta(texts, event)
    return texts.get(run_id, "")


async def test_same_key_same_request_is_a_duplicate(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="dup")
    request = cpb.SendRequest(session_key="dup", text="only once", idempotency_key="k-1")
    first = await chat.Send(request)
    assert first.status == cpb.SEND_STATUS_STARTED
    again = await chat.Send(request)
    assert again.status == cpb.SEND_STATUS_DUPLICATE
    assert again.run_id == first.run_id
    assert again.message_seq == first.message_seq
    await wait_run(chat, first.run_id)
    late = await chat.Send(request)
    assert late.status == cpb.SEND_STATUS_DUPLICATE
    assert late.run_id == first.run_id

    messages = await list_messages(sessions, "dup")
    assert [m.text for m in users(messages)] == ["only once"]
    assert [m.seq for m in messages] == [1, 2], "no second message, no second reply"
    runs = await chat.ListRuns(cpb.ListRunsRequest(session_key="dup"))
    assert [r.run_id for r in runs.runs] == [first.run_id]
    assert runs.runs[0].idempotency_key == "k-1"


async def test_same_key_different_request_conflicts(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="clash")
    first = await chat.Send(
        cpb.SendRequest(session_key="clash", text="original", idempotency_key="k-2")
    )
    err = await expect_error(
        chat.Send(cpb.SendRequest(session_key="clash", text="changed", idempotency_key="k-2")),
        Code.ALREADY_EXISTS,
        "IDEMPOTENCY_CONFLICT",
    )
    assert error_info(err)[0] == "IDEMPOTENCY_CONFLICT"
    await expect_error(
        read_to_end(
            chat.Chat(cpb.ChatRequest(session_key="clash", text="changed", idempotency_key="k-2"))
        ),
        Code.ALREADY_EXISTS,
        "IDEMPOTENCY_CONFLICT",
    )
    await wait_run(chat, first.run_id)
    assert [m.text for m in users(await list_messages(sessions, "clash"))] == ["original"]


async def test_idempotency_keys_are_per_session(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="left")
    await create_session(sessions, key="right")
    left = await chat.Send(cpb.SendRequest(session_key="left", text="x", idempotency_key="same"))
    right = await chat.Send(cpb.SendRequest(session_key="right", text="y", idempotency_key="same"))
    assert right.status == cpb.SEND_STATUS_STARTED
    assert left.run_id != right.run_id
    for sent in (left, right):
        assert (await wait_run(chat, sent.run_id)).status == R.RUN_STATUS_DONE


async def test_concurrent_duplicates_make_one_run(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="race")
    request = cpb.SendRequest(session_key="race", text="tap tap tap", idempotency_key="k-race")
    responses = await asyncio.gather(*(chat.Send(request) for _ in range(12)))
    assert len({r.run_id for r in responses}) == 1
    statuses = sorted(r.status for r in responses)
    assert statuses == [cpb.SEND_STATUS_STARTED] + [cpb.SEND_STATUS_DUPLICATE] * 11
    await wait_run(chat, responses[0].run_id)
    assert [m.text for m in users(await list_messages(sessions, "race"))] == ["tap tap tap"]


async def test_chat_with_duplicate_key_reattaches_to_the_live_run(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="reattach")
    text = mixed_text(300, seed=5)
    request = cpb.ChatRequest(session_key="reattach", text=text, idempotency_key="k-chat")
    async with StreamReader(chat.Chat(request)) as first:
        head = await first.read_until(lambda r: body_of(r.event) == "delta")
        run_id = head[0].event.run_id
        # The first run is still in flight: the second Chat joins it.
        assert (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run.status == (
            R.RUN_STATUS_RUNNING
        )
        second_events = [r.event for r in await read_to_end(chat.Chat(request), timeout=10)]
        rest = await first.read_until(lambda r: body_of(r.event) == "final", timeout=10)
    first_events = [r.event for r in head + rest]

    for events in (first_events, second_events):
        assert {e.run_id for e in events} == {run_id}
        assert body_of(events[0]) == "run_started"
        assert body_of(events[-1]) == "final"
        assert "session_changed" not in {body_of(e) for e in events}
        assert reply_of(events, run_id) == text
    assert first_events[-1].final == second_events[-1].final
    assert first_events[-1].cursor == second_events[-1].cursor
    assert second_events[-1].final.message.text == text
    assert [m.text for m in users(await list_messages(sessions, "reattach"))] == [text]


async def test_chat_with_duplicate_key_after_the_run_replays_to_final(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="replay")
    request = cpb.ChatRequest(session_key="replay", text="all done", idempotency_key="k-done")
    original = [r.event for r in await read_to_end(chat.Chat(request))]
    # Another run afterwards must not leak into the replay.
    other = await chat.Send(cpb.SendRequest(session_key="replay", text="something else"))
    await wait_run(chat, other.run_id)

    replayed = [r.event for r in await read_to_end(chat.Chat(request))]
    durable = [e for e in original if body_of(e) != "delta"]
    assert [body_of(e) for e in replayed] == ["run_started", "final"]
    assert replayed == durable
    assert replayed[-1].final.message.text == "all done"
    assert [m.text for m in users(await list_messages(sessions, "replay"))] == [
        "all done",
        "something else",
    ]


async def test_send_then_chat_with_the_same_key_attaches(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="mixed")
    sent = await chat.Send(
        cpb.SendRequest(session_key="mixed", text=mixed_text(80), idempotency_key="k-mix")
    )
    events = [
        r.event
        for r in await read_to_end(
            chat.Chat(
                cpb.ChatRequest(session_key="mixed", text=mixed_text(80), idempotency_key="k-mix")
            )
        )
    ]
    assert {e.run_id for e in events} == {sent.run_id}
    assert body_of(events[-1]) == "final"
    assert events[-1].final.message.text == mixed_text(80)
    assert len(users(await list_messages(sessions, "mixed"))) == 1


async def test_duplicate_steer_does_not_interrupt_again(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="steady")
    first = await chat.Send(cpb.SendRequest(session_key="steady", text=mixed_text(300)))
    request = cpb.SteerRequest(session_key="steady", text=mixed_text(300, 7), idempotency_key="s")
    steered = await chat.Steer(request)
    assert steered.interrupted_run_id == first.run_id
    again = await chat.Steer(request)
    assert again.status == cpb.SEND_STATUS_DUPLICATE
    assert again.run_id == steered.run_id
    assert not again.interrupted_active_run
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=steered.run_id))).run
    assert run.status == R.RUN_STATUS_RUNNING, "a retried Steer must not stop its own run"
    await chat.Abort(cpb.AbortRequest(session_key="steady"))


async def test_chat_duplicate_of_a_queued_run_streams_when_it_runs(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="later")
    await chat.Send(cpb.SendRequest(session_key="later", text=mixed_text(60)))
    queued = await chat.Send(
        cpb.SendRequest(session_key="later", text="my turn", idempotency_key="k-q")
    )
    assert queued.status == cpb.SEND_STATUS_QUEUED
    request = cpb.ChatRequest(session_key="later", text="my turn", idempotency_key="k-q")
    events = [r.event for r in await read_to_end(chat.Chat(request))]
    assert {e.run_id for e in events} == {queued.run_id}
    assert body_of(events[0]) == "run_started"
    assert events[-1].final.message.text == "my turn"


async def test_cancelled_chat_keeps_running_and_can_be_rejoined(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="dropped")
    text = mixed_text(300, seed=11)
    request = cpb.ChatRequest(session_key="dropped", text=text, idempotency_key="k-drop")
    async with StreamReader(chat.Chat(request)) as first:
        head = await first.read_until(lambda r: body_of(r.event) == "delta")
    run_id = head[0].event.run_id
    # The client went away; the run did not.
    assert (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run.status == (
        R.RUN_STATUS_RUNNING
    )
    rejoined = [r.event for r in await read_to_end(chat.Chat(request), timeout=10)]
    assert {e.run_id for e in rejoined} == {run_id}
    assert reply_of(rejoined, run_id) == text
    assert rejoined[-1].final.stop_reason == "completed"
    assert rejoined[-1].final.message.text == text
