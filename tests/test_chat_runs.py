"""ChatService runs end to end: Chat/WatchChat, queue modes, Steer, Abort, timeouts, validation."""

from __future__ import annotations

import asyncio
import itertools
import unicodedata
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from helpers import (
    StreamReader,
    apply_delta,
    body_of,
    create_session,
    ends_run,
    error_info,
    expect_error,
    list_messages,
    mixed_text,
    read_to_end,
    ts_key,
    wait_run,
)
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import (
    chat_service_pb2_grpc,
    events_pb2,
    resources_pb2,
    session_service_pb2_grpc,
)
from sessiond.v1 import session_service_pb2 as spb

if TYPE_CHECKING:
    from conftest import ServerHandle

pytestmark = pytest.mark.replicated  # also against three replicas (conftest.py)

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode
R = resources_pb2

# 2 code points every 10 ms: a 400-character reply takes about 2 s, a 20-character one 0.1 s.
SLOW = 400


@pytest.fixture
def config(config: Config, request: pytest.FixtureRequest) -> Config:
    overrides: dict[str, Any] = {"echo_delay_ms": 10, "echo_chunk_chars": 2}
    overrides.update(getattr(request, "param", {}))
    return replace(config, **overrides)


async def set_queue_mode(sessions: Sessions, key: str, mode: int) -> None:
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=key,
            update=spb.SessionUpdate(queue_mode=mode),  # type: ignore[arg-type]
            update_mask=field_mask_pb2.FieldMask(paths=["queue_mode"]),
        )
    )


def watch(chat: Chat, key: str, after_cursor: int = 0) -> StreamReader[cpb.WatchChatResponse]:
    return StreamReader(
        chat.WatchChat(cpb.WatchChatRequest(session_key=key, after_cursor=after_cursor))
    )


async def first_delta(reader: StreamReader[cpb.WatchChatResponse], run_id: str) -> None:
    await reader.read_until(
        lambda r: r.event.run_id == run_id and body_of(r.event) == "delta", timeout=5
    )


def events_of(reader: StreamReader[cpb.WatchChatResponse]) -> list[events_pb2.ChatEvent]:
    return [r.event for r in reader.received]


def assistant_of(messages: list[R.Message], run_id: str) -> list[R.Message]:
    return [m for m in messages if m.role == R.ROLE_ASSISTANT and m.run_id == run_id]


# -- Chat and WatchChat ------------------------------------------------------------------


async def test_chat_streams_deltas_that_add_up_to_the_final(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="stream")
    text = mixed_text(120)
    events = [
        r.event
        for r in await read_to_end(chat.Chat(cpb.ChatRequest(session_key="stream", text=text)))
    ]
    kinds = [body_of(e) for e in events]
    assert kinds[0] == "run_started", kinds
    assert kinds[-1] == "final", kinds
    assert set(kinds[1:-1]) == {"delta"}, kinds
    run_id = events[0].run_id
    assert run_id
    assert all(e.run_id == run_id for e in events)
    assert all(e.session_key == "agent:main:stream" for e in events)
    assert events[0].run_started.message_seq == 1

    offset = 0
    for event in events[1:-1]:
        assert event.delta.offset == offset, "delta offsets must be contiguous code points"
        assert not event.delta.thinking
        offset += len(event.delta.text)
    streamed = "".join(e.delta.text for e in events[1:-1])
    final = events[-1].final
    assert final.stop_reason == "completed"
    assert final.message.text == text
    assert streamed == text
    assert offset == len(text)
    assert final.message.role == R.ROLE_ASSISTANT
    assert final.message.seq == 2
    assert final.message.run_id == run_id
    assert final.usage.output_tokens > 0
    stored = await list_messages(sessions, "stream")
    assert stored[-1] == final.message, "the final carries the stored assistant message"
    # Durable events have increasing cursors; deltas carry the last durable cursor.
    assert events[-1].cursor > events[0].cursor
    assert all(e.cursor == events[0].cursor for e in events[1:-1])


async def test_watch_chat_on_another_channel_sees_the_run(
    server: ServerHandle, sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="shared")
    text = mixed_text(60, seed=3)
    async with grpc.aio.insecure_channel(server.target) as other:
        watcher = chat_service_pb2_grpc.ChatServiceStub(other)
        async with watch(watcher, "shared") as reader:
            sent = await chat.Send(cpb.SendRequest(session_key="shared", text=text))
            await reader.read_until(lambda r: ends_run(r.event, sent.run_id), timeout=10)
    events = events_of(reader)
    ours = [e for e in events if e.run_id == sent.run_id]
    kinds = [body_of(e) for e in ours]
    assert (kinds[0], kinds[-1]) == ("run_started", "final"), kinds
    texts: dict[str, str] = {}
    for event in ours:
        if body_of(event) == "delta":
            apply_delta(texts, event)
    assert texts[sent.run_id] == text == ours[-1].final.message.text
    sends = [
        e
        for e in events
        if body_of(e) == "session_changed"
        and e.session_changed.reason == events_pb2.SESSION_EVENT_REASON_SEND
    ]
    assert len(sends) == 1
    assert sends[0].run_id == "", "session_changed events carry no run id"
    assert sends[0].cursor < ours[0].cursor
    durable = [e.cursor for e in events if body_of(e) not in ("delta", "heartbeat")]
    assert durable == list(range(1, len(durable) + 1)), "cursors are gap-free from 1"


async def test_send_then_transcript_runs_and_wait(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="basic")
    sent = await chat.Send(cpb.SendRequest(session_key="basic", text="hello there"))
    assert sent.run_id
    assert sent.message_seq == 1
    assert sent.status == cpb.SEND_STATUS_STARTED
    assert sent.session_key == "agent:main:basic"

    waited = await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=10_000))
    assert waited.done
    run = waited.run
    assert run.status == R.RUN_STATUS_DONE
    assert run.stop_reason == "completed"
    assert run.run_id == sent.run_id
    assert run.session_key == "agent:main:basic"
    assert run.message_seq == 1
    assert run.HasField("usage")
    assert run.usage.output_tokens > 0
    assert run.usage.total_tokens >= run.usage.output_tokens
    assert run.HasField("started_at")
    assert run.HasField("ended_at")
    assert ts_key(run.ended_at) >= ts_key(run.started_at)

    got = (await chat.GetRun(cpb.GetRunRequest(run_id=sent.run_id))).run
    assert got == run

    messages = await list_messages(sessions, "basic")
    assert [m.seq for m in messages] == [1, 2]
    assert [m.role for m in messages] == [R.ROLE_USER, R.ROLE_ASSISTANT]
    assert messages[0].text == messages[1].text == "hello there"
    assert messages[1].stop_reason == "completed"
    assert messages[0].run_id == messages[1].run_id == sent.run_id

    session = (await sessions.GetSession(spb.GetSessionRequest(key="basic"))).session
    assert not session.has_active_run
    assert session.status == R.SESSION_STATUS_DONE
    assert session.message_count == 2
    assert session.usage.output_tokens == run.usage.output_tokens


async def test_wait_run_times_out_on_a_running_run(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="waiting")
    sent = await chat.Send(cpb.SendRequest(session_key="waiting", text=mixed_text(SLOW)))
    waited = await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=50))
    assert not waited.done
    assert waited.run.status == R.RUN_STATUS_RUNNING
    await expect_error(chat.GetRun(cpb.GetRunRequest(run_id="no-such-run")), Code.NOT_FOUND)
    await chat.Abort(cpb.AbortRequest(session_key="waiting"))


async def test_send_to_missing_session_is_not_found(chat: Chat) -> None:
    await expect_error(
        chat.Send(cpb.SendRequest(session_key="nobody-here", text="hi")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def test_create_session_with_initial_message_starts_a_run(
    sessions: Sessions, chat: Chat
) -> None:
    created = await sessions.CreateSession(
        spb.CreateSessionRequest(key="opener", initial_message="first words")
    )
    assert created.created
    assert created.run_id
    assert created.message_seq == 1
    run = await wait_run(chat, created.run_id)
    assert run.status == R.RUN_STATUS_DONE
    messages = await list_messages(sessions, "opener")
    assert [(m.seq, m.role, m.text) for m in messages] == [
        (1, R.ROLE_USER, "first words"),
        (2, R.ROLE_ASSISTANT, "first words"),
    ]


# -- the queue ---------------------------------------------------------------------------


async def test_concurrent_sends_queue_and_run_in_order(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="busy")
    texts = [f"queued message number {i:02d} {mixed_text(6, i)}" for i in range(20)]
    responses = await asyncio.gather(
        *(chat.Send(cpb.SendRequest(session_key="busy", text=t)) for t in texts)
    )
    by_seq = sorted(zip(responses, texts, strict=True), key=lambda p: p[0].message_seq)
    assert [r.message_seq for r, _ in by_seq] == list(range(1, 21))
    assert by_seq[0][0].status == cpb.SEND_STATUS_STARTED
    assert [r.status for r, _ in by_seq[1:]] == [cpb.SEND_STATUS_QUEUED] * 19
    assert len({r.run_id for r in responses}) == 20

    runs = await asyncio.gather(*(wait_run(chat, r.run_id, 20) for r, _ in by_seq))
    assert all(r.status == R.RUN_STATUS_DONE for r in runs), [r.stop_reason for r in runs]
    for before, after in itertools.pairwise(runs):
        assert ts_key(before.ended_at) <= ts_key(after.started_at), "runs overlap or reorder"
        assert ts_key(before.ended_at) <= ts_key(after.ended_at)

    messages = await list_messages(sessions, "busy")
    assert [m.seq for m in messages] == list(range(1, 41))
    users = [m for m in messages if m.role == R.ROLE_USER]
    assistants = [m for m in messages if m.role == R.ROLE_ASSISTANT]
    ordered = [t for _, t in by_seq]
    assert [m.text for m in users] == ordered
    assert [m.text for m in assistants] == ordered, "replies must come in send order"
    assert [m.run_id for m in assistants] == [r.run_id for r, _ in by_seq]
    session = (await sessions.GetSession(spb.GetSessionRequest(key="busy"))).session
    assert not session.has_active_run
    assert session.message_count == 40
    assert session.usage.output_tokens == sum(r.usage.output_tokens for r in runs)
    assert session.usage.input_tokens == sum(r.usage.input_tokens for r in runs)


async def test_list_runs_shows_the_queue(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="line")
    first = await chat.Send(cpb.SendRequest(session_key="line", text=mixed_text(SLOW)))
    second = await chat.Send(cpb.SendRequest(session_key="line", text="second"))
    third = await chat.Send(cpb.SendRequest(session_key="line", text="third"))
    assert [second.status, third.status] == [cpb.SEND_STATUS_QUEUED] * 2

    queued = await chat.ListRuns(
        cpb.ListRunsRequest(session_key="line", status=R.RUN_STATUS_QUEUED)
    )
    assert [r.run_id for r in queued.runs] == [third.run_id, second.run_id], "newest first"
    assert all(r.status == R.RUN_STATUS_QUEUED for r in queued.runs)
    assert all(not r.HasField("started_at") for r in queued.runs)

    running = await chat.ListRuns(
        cpb.ListRunsRequest(session_key="line", status=R.RUN_STATUS_RUNNING)
    )
    assert [r.run_id for r in running.runs] == [first.run_id]
    every = await chat.ListRuns(cpb.ListRunsRequest(session_key="line"))
    assert [r.run_id for r in every.runs] == [third.run_id, second.run_id, first.run_id]
    session = (await sessions.GetSession(spb.GetSessionRequest(key="line"))).session
    assert session.has_active_run
    assert session.active_run_id == first.run_id
    await chat.Abort(cpb.AbortRequest(session_key="line", clear_queue=True))


async def test_queue_mode_reject(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="strict")
    await set_queue_mode(sessions, "strict", R.QUEUE_MODE_REJECT)
    first = await chat.Send(cpb.SendRequest(session_key="strict", text=mixed_text(SLOW)))
    assert first.status == cpb.SEND_STATUS_STARTED
    err = await expect_error(
        chat.Send(cpb.SendRequest(session_key="strict", text="me too")),
        Code.FAILED_PRECONDITION,
        "SESSION_BUSY",
    )
    assert error_info(err)[1].get("active_run_id") == first.run_id
    users = [m for m in await list_messages(sessions, "strict") if m.role == R.ROLE_USER]
    assert [m.text for m in users] == [mixed_text(SLOW)], "a rejected message is not stored"
    await chat.Abort(cpb.AbortRequest(session_key="strict"))
    # Once idle, the session accepts messages again.
    later = await chat.Send(cpb.SendRequest(session_key="strict", text="now"))
    assert later.status == cpb.SEND_STATUS_STARTED
    assert (await wait_run(chat, later.run_id)).status == R.RUN_STATUS_DONE


async def test_queue_mode_interrupt_steers(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="eager")
    await set_queue_mode(sessions, "eager", R.QUEUE_MODE_INTERRUPT)
    text = mixed_text(SLOW)
    async with watch(chat, "eager") as reader:
        first = await chat.Send(cpb.SendRequest(session_key="eager", text=text))
        await first_delta(reader, first.run_id)
        second = await chat.Send(cpb.SendRequest(session_key="eager", text="changed my mind"))
        assert second.status == cpb.SEND_STATUS_STARTED
        await reader.read_until(lambda r: ends_run(r.event, second.run_id), timeout=10)

    old = await wait_run(chat, first.run_id)
    assert old.status == R.RUN_STATUS_ABORTED
    assert old.stop_reason == "interrupted"
    new = await wait_run(chat, second.run_id)
    assert new.status == R.RUN_STATUS_DONE
    messages = await list_messages(sessions, "eager")
    partial = assistant_of(messages, first.run_id)
    assert len(partial) == 1
    assert partial[0].stop_reason == "interrupted"
    assert partial[0].text
    assert text.startswith(partial[0].text)
    assert [m.text for m in assistant_of(messages, second.run_id)] == ["changed my mind"]


# -- Steer and Abort ---------------------------------------------------------------------


async def test_steer_interrupts_and_keeps_the_partial_once(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="steer")
    text = mixed_text(SLOW)
    async with watch(chat, "steer") as reader:
        first = await chat.Send(cpb.SendRequest(session_key="steer", text=text))
        await first_delta(reader, first.run_id)
        steered = await chat.Steer(cpb.SteerRequest(session_key="steer", text="do this instead"))
        assert steered.interrupted_active_run
        assert steered.interrupted_run_id == first.run_id
        assert steered.status == cpb.SEND_STATUS_STARTED
        assert steered.run_id != first.run_id
        await reader.read_until(lambda r: ends_run(r.event, steered.run_id), timeout=10)

    old = await wait_run(chat, first.run_id)
    assert old.status == R.RUN_STATUS_ABORTED
    assert old.stop_reason == "interrupted"
    new = await wait_run(chat, steered.run_id)
    assert new.status == R.RUN_STATUS_DONE
    assert new.stop_reason == "completed"

    messages = await list_messages(sessions, "steer")
    assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
    partial = assistant_of(messages, first.run_id)
    assert len(partial) == 1, "the partial reply is saved exactly once"
    assert partial[0].stop_reason == "interrupted"
    assert partial[0].text
    assert text.startswith(partial[0].text)
    assert len(partial[0].text) < len(text)
    assert [m.text for m in assistant_of(messages, steered.run_id)] == ["do this instead"]
    assert messages[-1].run_id == steered.run_id

    events = events_of(reader)
    aborted = [e for e in events if e.run_id == first.run_id and body_of(e) == "aborted"]
    assert len(aborted) == 1
    assert aborted[0].aborted.stop_reason == "interrupted"
    assert aborted[0].aborted.partial_message_seq == partial[0].seq
    assert not [e for e in events if e.run_id == first.run_id and body_of(e) == "final"]


async def test_steer_without_active_run_just_sends(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="calm")
    steered = await chat.Steer(cpb.SteerRequest(session_key="calm", text="hi"))
    assert not steered.interrupted_active_run
    assert steered.interrupted_run_id == ""
    assert steered.status == cpb.SEND_STATUS_STARTED
    assert (await wait_run(chat, steered.run_id)).status == R.RUN_STATUS_DONE


async def test_abort_by_key_mid_run(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="stop")
    text = mixed_text(SLOW)
    async with watch(chat, "stop") as reader:
        sent = await chat.Send(cpb.SendRequest(session_key="stop", text=text))
        await first_delta(reader, sent.run_id)
        aborted = await chat.Abort(cpb.AbortRequest(session_key="stop"))
        assert aborted.status == cpb.ABORT_STATUS_ABORTED
        assert aborted.aborted_run_id == sent.run_id
        assert aborted.session_key == "agent:main:stop"
        await reader.read_until(lambda r: ends_run(r.event, sent.run_id))
        # A later run proves the stream went on: nothing of the stopped run may follow.
        after = await chat.Send(cpb.SendRequest(session_key="stop", text="next one"))
        await reader.read_until(lambda r: ends_run(r.event, after.run_id), timeout=10)

    run = await wait_run(chat, sent.run_id)
    assert run.status == R.RUN_STATUS_ABORTED
    assert run.stop_reason == "aborted"
    messages = await list_messages(sessions, "stop")
    partial = assistant_of(messages, sent.run_id)
    assert len(partial) == 1, "the partial reply is saved exactly once"
    assert partial[0].stop_reason == "aborted"
    assert partial[0].text
    assert text.startswith(partial[0].text)

    events = events_of(reader)
    ends = [i for i, e in enumerate(events) if ends_run(e, sent.run_id)]
    assert len(ends) == 1
    end = events[ends[0]]
    assert body_of(end) == "aborted"
    assert end.aborted.stop_reason == "aborted"
    assert end.aborted.partial_message_seq == partial[0].seq
    late = [e for e in events[ends[0] + 1 :] if e.run_id == sent.run_id]
    assert late == [], f"events of the aborted run after its end: {late}"
    streamed = "".join(
        e.delta.text for e in events[: ends[0]] if e.run_id == sent.run_id and e.HasField("delta")
    )
    assert streamed
    assert partial[0].text.startswith(streamed)
    session = (await sessions.GetSession(spb.GetSessionRequest(key="stop"))).session
    assert not session.has_active_run


async def test_abort_with_nothing_running(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="idle")
    aborted = await chat.Abort(cpb.AbortRequest(session_key="idle"))
    assert aborted.status == cpb.ABORT_STATUS_NO_ACTIVE_RUN
    assert aborted.aborted_run_id == ""
    sent = await chat.Send(cpb.SendRequest(session_key="idle", text="short"))
    await wait_run(chat, sent.run_id)
    again = await chat.Abort(cpb.AbortRequest(session_key="idle"))
    assert again.status == cpb.ABORT_STATUS_NO_ACTIVE_RUN
    assert (await chat.GetRun(cpb.GetRunRequest(run_id=sent.run_id))).run.stop_reason == (
        "completed"
    )


async def test_abort_of_a_queued_run_removes_it(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="dequeue")
    first = await chat.Send(cpb.SendRequest(session_key="dequeue", text=mixed_text(SLOW)))
    second = await chat.Send(cpb.SendRequest(session_key="dequeue", text="drop me"))
    third = await chat.Send(cpb.SendRequest(session_key="dequeue", text="keep me"))

    aborted = await chat.Abort(cpb.AbortRequest(session_key="dequeue", run_id=second.run_id))
    assert aborted.status == cpb.ABORT_STATUS_ABORTED
    assert aborted.aborted_run_id == second.run_id
    dropped = (await chat.GetRun(cpb.GetRunRequest(run_id=second.run_id))).run
    assert dropped.status == R.RUN_STATUS_ABORTED
    assert dropped.stop_reason == "aborted"
    assert not dropped.HasField("started_at"), "a dequeued run never started"
    queued = await chat.ListRuns(
        cpb.ListRunsRequest(session_key="dequeue", status=R.RUN_STATUS_QUEUED)
    )
    assert [r.run_id for r in queued.runs] == [third.run_id]
    assert (await chat.GetRun(cpb.GetRunRequest(run_id=first.run_id))).run.status == (
        R.RUN_STATUS_RUNNING
    ), "dequeuing must not stop the active run"

    await chat.Abort(cpb.AbortRequest(session_key="dequeue"))
    assert (await wait_run(chat, third.run_id)).status == R.RUN_STATUS_DONE
    async with watch(chat, "dequeue") as reader:
        await reader.read_until(lambda r: ends_run(r.event, third.run_id), timeout=10)
    events = [e for e in events_of(reader) if e.run_id == second.run_id]
    assert [body_of(e) for e in events] == ["aborted"]
    assert events[0].aborted.stop_reason == "aborted"
    messages = await list_messages(sessions, "dequeue")
    assert assistant_of(messages, second.run_id) == []
    assert [m.text for m in assistant_of(messages, third.run_id)] == ["keep me"]


async def test_abort_clear_queue_cancels_everything(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="flush")
    first = await chat.Send(cpb.SendRequest(session_key="flush", text=mixed_text(SLOW)))
    queued = [
        await chat.Send(cpb.SendRequest(session_key="flush", text=f"later {i}")) for i in range(3)
    ]
    aborted = await chat.Abort(cpb.AbortRequest(session_key="flush", clear_queue=True))
    assert aborted.status == cpb.ABORT_STATUS_ABORTED
    assert aborted.aborted_run_id == first.run_id
    assert sorted(aborted.cancelled_run_ids) == sorted(q.run_id for q in queued)

    for sent in (first, *queued):
        run = await wait_run(chat, sent.run_id)
        assert run.status == R.RUN_STATUS_ABORTED
        assert run.stop_reason == "aborted"
    listed = await chat.ListRuns(cpb.ListRunsRequest(session_key="flush"))
    assert {r.status for r in listed.runs} == {R.RUN_STATUS_ABORTED}
    session = (await sessions.GetSession(spb.GetSessionRequest(key="flush"))).session
    assert not session.has_active_run

    # Every cancelled run emits `aborted`; only the active one had ever started.
    ids = {first.run_id} | {q.run_id for q in queued}
    seen: set[str] = set()
    async with watch(chat, "flush") as reader:
        while seen != ids:
            event = (await reader.next(5)).event
            if event.run_id in ids and body_of(event) == "aborted":
                seen.add(event.run_id)
    started = {e.run_id for e in events_of(reader) if body_of(e) == "run_started"}
    assert started == {first.run_id}


async def test_abort_with_run_of_another_session(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="mine")
    await create_session(sessions, key="theirs")
    sent = await chat.Send(cpb.SendRequest(session_key="mine", text=mixed_text(SLOW)))
    await expect_error(
        chat.Abort(cpb.AbortRequest(session_key="theirs", run_id=sent.run_id)),
        Code.INVALID_ARGUMENT,
    )
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=sent.run_id))).run
    assert run.status == R.RUN_STATUS_RUNNING
    # By run id alone it works.
    aborted = await chat.Abort(cpb.AbortRequest(run_id=sent.run_id))
    assert aborted.status == cpb.ABORT_STATUS_ABORTED
    assert aborted.aborted_run_id == sent.run_id
    assert aborted.session_key == "agent:main:mine"


async def test_run_timeout(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="slowpoke")
    text = mixed_text(SLOW)
    async with watch(chat, "slowpoke") as reader:
        sent = await chat.Send(cpb.SendRequest(session_key="slowpoke", text=text, timeout_ms=50))
        await reader.read_until(lambda r: ends_run(r.event, sent.run_id), timeout=5)
    end = reader.received[-1].event
    assert body_of(end) == "aborted"
    assert end.aborted.stop_reason == "timeout"
    run = await wait_run(chat, sent.run_id)
    assert run.status == R.RUN_STATUS_ABORTED
    assert run.stop_reason == "timeout"
    partial = assistant_of(await list_messages(sessions, "slowpoke"), sent.run_id)
    assert len(partial) <= 1
    for message in partial:
        assert message.stop_reason == "timeout"
        assert text.startswith(message.text)
        assert len(message.text) < len(text)


@pytest.mark.parametrize("config", [{"run_timeout_ms": 100}], indirect=True, ids=["100ms"])
async def test_default_run_timeout_comes_from_config(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="cfg-timeout")
    slow = await chat.Send(cpb.SendRequest(session_key="cfg-timeout", text=mixed_text(SLOW)))
    run = await wait_run(chat, slow.run_id)
    assert run.status == R.RUN_STATUS_ABORTED
    assert run.stop_reason == "timeout"
    # A per-run timeout overrides the default.
    longer = await chat.Send(
        cpb.SendRequest(session_key="cfg-timeout", text=mixed_text(60), timeout_ms=5000)
    )
    assert (await wait_run(chat, longer.run_id)).status == R.RUN_STATUS_DONE


async def test_send_policy_deny(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="quiet")
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key="quiet",
            update=spb.SessionUpdate(send_policy=R.SEND_POLICY_DENY),
            update_mask=field_mask_pb2.FieldMask(paths=["send_policy"]),
        )
    )
    await expect_error(
        chat.Send(cpb.SendRequest(session_key="quiet", text="hello")),
        Code.PERMISSION_DENIED,
        "SEND_DENIED",
    )
    await expect_error(
        read_to_end(chat.Chat(cpb.ChatRequest(session_key="quiet", text="hello"))),
        Code.PERMISSION_DENIED,
        "SEND_DENIED",
    )
    assert await list_messages(sessions, "quiet") == []
    runs = await chat.ListRuns(cpb.ListRunsRequest(session_key="quiet"))
    assert list(runs.runs) == []


# -- message validation ------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_message_validation_rejects(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="strict-text")
    bad: list[cpb.SendRequest] = [
        cpb.SendRequest(session_key="strict-text", text="nul\x00byte"),
        cpb.SendRequest(session_key="strict-text", text=""),
        cpb.SendRequest(session_key="strict-text", text=" \t\n  "),
        cpb.SendRequest(session_key="strict-text", text="\x07\x1b"),
        cpb.SendRequest(
            session_key="strict-text",
            text="big",
            attachments=[R.Attachment(mime_type="image/png", data=b"\x00" * (5 * 1024 * 1024 + 1))],
        ),
        cpb.SendRequest(
            session_key="strict-text",
            text="pdf",
            attachments=[R.Attachment(mime_type="application/pdf", data=b"%PDF-1.4")],
        ),
    ]
    for request in bad:
        await expect_error(chat.Send(request, timeout=10), Code.INVALID_ARGUMENT)
    assert await list_messages(sessions, "strict-text") == []


async def test_message_text_is_cleaned(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="clean")
    cleaned = await chat.Send(
        cpb.SendRequest(session_key="clean", text="a\x07b\tc\nd\re\x1bf\x7fg\x85h\x9fi\xa0j")
    )
    await wait_run(chat, cleaned.run_id)
    composed = await chat.Send(cpb.SendRequest(session_key="clean", text="caf" + "e\u0301"))
    await wait_run(chat, composed.run_id)
    messages = await list_messages(sessions, "clean")
    users = [m for m in messages if m.role == R.ROLE_USER]
    assert users[0].text == "ab\tc\nd\refghi\xa0j"  # C0 and C1 controls but tab, LF, CR
    assert users[1].text == "caf\u00e9"
    assert unicodedata.is_normalized("NFC", users[1].text)
    replies = [m.text for m in messages if m.role == R.ROLE_ASSISTANT]
    assert replies == ["ab\tc\nd\refghi\xa0j", "caf\u00e9"]


async def test_image_only_message_is_accepted(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="picture")
    image = R.Attachment(mime_type="image/png", data=PNG, file_name="dot.png")
    sent = await chat.Send(cpb.SendRequest(session_key="picture", text="", attachments=[image]))
    assert sent.status == cpb.SEND_STATUS_STARTED
    assert sent.message_seq == 1
    run = await wait_run(chat, sent.run_id)
    assert run.status == R.RUN_STATUS_DONE
    users = [m for m in await list_messages(sessions, "picture") if m.role == R.ROLE_USER]
    assert len(users) == 1
    assert users[0].text == ""
    # Listed messages carry an attachment's metadata; GetAttachment its bytes (the bytes
    # came inline before: test_attachments.py).
    assert [(a.mime_type, a.size_bytes, a.file_name, a.omitted) for a in users[0].attachments] == [
        ("image/png", len(PNG), "dot.png", True)
    ]
    stored = await sessions.GetAttachment(
        spb.GetAttachmentRequest(key="picture", seq=sent.message_seq, index=0)
    )
    assert stored.attachment.data == PNG


async def test_expected_last_seq(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="tabs")
    first = await chat.Send(cpb.SendRequest(session_key="tabs", text="one", expected_last_seq=0))
    await wait_run(chat, first.run_id)
    await expect_error(
        chat.Send(cpb.SendRequest(session_key="tabs", text="stale tab", expected_last_seq=1)),
        Code.ABORTED,
    )
    ok = await chat.Send(cpb.SendRequest(session_key="tabs", text="fresh tab", expected_last_seq=2))
    assert ok.message_seq == 3
    await wait_run(chat, ok.run_id)
    texts = [m.text for m in await list_messages(sessions, "tabs")]
    assert "stale tab" not in texts


# -- more contract details ---------------------------------------------------------------


async def test_chat_on_a_busy_session_waits_for_its_turn(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="turns")
    first = await chat.Send(cpb.SendRequest(session_key="turns", text=mixed_text(60)))
    events = [
        r.event
        for r in await read_to_end(chat.Chat(cpb.ChatRequest(session_key="turns", text="mine")))
    ]
    assert body_of(events[0]) == "run_started"
    assert body_of(events[-1]) == "final"
    assert events[-1].final.message.text == "mine"
    assert events[0].run_started.message_seq == 2
    done = (await chat.GetRun(cpb.GetRunRequest(run_id=first.run_id))).run
    assert done.status == R.RUN_STATUS_DONE, "the queued Chat run started after the first ended"
    assert ts_key(done.ended_at) <= ts_key(events[0].ts)


async def test_runs_of_different_sessions_run_in_parallel(sessions: Sessions, chat: Chat) -> None:
    keys = [f"par-{i}" for i in range(6)]
    for key in keys:
        await create_session(sessions, key=key)
    loop = asyncio.get_running_loop()
    started = loop.time()
    # 100 characters at 2 every 10 ms: about 0.5 s each, 3 s if they were serialised.
    sent = await asyncio.gather(
        *(chat.Send(cpb.SendRequest(session_key=k, text=mixed_text(100))) for k in keys)
    )
    assert {s.status for s in sent} == {cpb.SEND_STATUS_STARTED}
    runs = await asyncio.gather(*(wait_run(chat, s.run_id) for s in sent))
    elapsed = loop.time() - started
    assert {r.status for r in runs} == {R.RUN_STATUS_DONE}
    assert elapsed < 2.0, f"6 sessions' runs took {elapsed:.2f}s: not concurrent"


async def test_watch_chat_is_per_session(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="own")
    await create_session(sessions, key="other")
    async with watch(chat, "own") as reader:
        noise = await chat.Send(cpb.SendRequest(session_key="other", text="not for you"))
        await wait_run(chat, noise.run_id)
        ours = await chat.Send(cpb.SendRequest(session_key="own", text="for you"))
        await reader.read_until(lambda r: ends_run(r.event, ours.run_id))
    events = events_of(reader)
    assert {e.session_key for e in events} == {"agent:main:own"}
    assert noise.run_id not in {e.run_id for e in events}


async def test_wait_run_with_no_timeout_waits_for_the_deadline(
    sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="deadline")
    sent = await chat.Send(cpb.SendRequest(session_key="deadline", text=mixed_text(SLOW)))
    waited = await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id), timeout=0.5)
    assert not waited.done, "returns the run as it is before the call's deadline"
    assert waited.run.status == R.RUN_STATUS_RUNNING
    await chat.Abort(cpb.AbortRequest(session_key="deadline"))
    waited = await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id), timeout=5)
    assert waited.done
    assert waited.run.status == R.RUN_STATUS_ABORTED


async def test_abort_request_errors(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="errs")
    await expect_error(chat.Abort(cpb.AbortRequest()), Code.INVALID_ARGUMENT)
    await expect_error(
        chat.Abort(cpb.AbortRequest(session_key="errs", run_id="no-such-run")), Code.NOT_FOUND
    )
    await expect_error(
        chat.Abort(cpb.AbortRequest(session_key="missing-session")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def test_abort_marks_the_session(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="marked")
    sent = await chat.Send(cpb.SendRequest(session_key="marked", text=mixed_text(SLOW)))
    await chat.Abort(cpb.AbortRequest(session_key="marked"))
    await wait_run(chat, sent.run_id)
    session = (await sessions.GetSession(spb.GetSessionRequest(key="marked"))).session
    assert session.aborted_last_run
    assert session.status == R.SESSION_STATUS_ABORTED
    assert not session.has_active_run
    assert session.active_run_id == ""
    again = await chat.Send(cpb.SendRequest(session_key="marked", text="fine now"))
    await wait_run(chat, again.run_id)
    session = (await sessions.GetSession(spb.GetSessionRequest(key="marked"))).session
    assert not session.aborted_last_run
    assert session.status == R.SESSION_STATUS_DONE


async def test_send_argument_errors(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="args")
    for request in (
        cpb.SendRequest(session_key="args", text="x", thinking="extreme"),
        cpb.SendRequest(session_key="args", text="x", timeout_ms=-1),
        cpb.SendRequest(session_key="args", text="x", idempotency_key="k" * 300),
        cpb.SendRequest(session_key="   ", text="x"),
    ):
        await expect_error(chat.Send(request), Code.INVALID_ARGUMENT)
    assert await list_messages(sessions, "args") == []


async def test_list_runs_pages(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="pages")
    ids = []
    for i in range(5):
        sent = await chat.Send(cpb.SendRequest(session_key="pages", text=f"run {i}"))
        await wait_run(chat, sent.run_id)
        ids.append(sent.run_id)
    seen: list[str] = []
    token = ""
    while True:
        page = await chat.ListRuns(
            cpb.ListRunsRequest(session_key="pages", page_size=2, page_token=token)
        )
        assert len(page.runs) <= 2
        seen += [r.run_id for r in page.runs]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids[::-1]


@pytest.mark.parametrize("action", ["reset", "delete"])
async def test_reset_and_delete_stop_the_active_run(
    sessions: Sessions, chat: Chat, action: str
) -> None:
    await create_session(sessions, key="doomed")
    async with watch(chat, "doomed") as reader:
        sent = await chat.Send(cpb.SendRequest(session_key="doomed", text=mixed_text(SLOW)))
        await first_delta(reader, sent.run_id)
        if action == "reset":
            await sessions.ResetSession(spb.ResetSessionRequest(key="doomed"))
        else:
            await sessions.DeleteSession(spb.DeleteSessionRequest(key="doomed"))
        # The run (2 s of reply left) is stopped first, not left running in the background.
        waited = await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=1000))
    assert waited.done, f"{action} left the run {R.RunStatus.Name(waited.run.status)}"
    assert waited.run.status == R.RUN_STATUS_ABORTED
    if action == "reset":
        session = (await sessions.GetSession(spb.GetSessionRequest(key="doomed"))).session
        assert not session.has_active_run
        assert session.message_count == 0


async def test_reset_mid_run_keeps_one_active_run(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="one-at-a-time")
    first = await chat.Send(cpb.SendRequest(session_key="one-at-a-time", text=mixed_text(SLOW)))
    await sessions.ResetSession(spb.ResetSessionRequest(key="one-at-a-time"))
    second = await chat.Send(cpb.SendRequest(session_key="one-at-a-time", text="fresh start"))
    running = await chat.ListRuns(
        cpb.ListRunsRequest(session_key="one-at-a-time", status=R.RUN_STATUS_RUNNING)
    )
    assert [r.run_id for r in running.runs] == [second.run_id], "one active run per session"
    assert (await chat.GetRun(cpb.GetRunRequest(run_id=first.run_id))).run.status == (
        R.RUN_STATUS_ABORTED
    )
    assert (await wait_run(chat, second.run_id)).status == R.RUN_STATUS_DONE


async def test_steer_with_current_expected_last_seq(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="steer-seq")
    async with watch(chat, "steer-seq") as reader:
        first = await chat.Send(cpb.SendRequest(session_key="steer-seq", text=mixed_text(SLOW)))
        await first_delta(reader, first.run_id)
    # The client has seen seq 1 (its own message); the reply in flight is not in the
    # transcript yet, so seq 1 is still the last one when the Steer arrives.
    steered = await chat.Steer(
        cpb.SteerRequest(session_key="steer-seq", text="instead", expected_last_seq=1)
    )
    assert steered.interrupted_run_id == first.run_id
    assert (await wait_run(chat, steered.run_id)).status == R.RUN_STATUS_DONE


async def test_refused_steer_leaves_the_active_run_alone(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="steer-stale")
    first = await chat.Send(cpb.SendRequest(session_key="steer-stale", text=mixed_text(SLOW)))
    await expect_error(
        chat.Steer(cpb.SteerRequest(session_key="steer-stale", text="late", expected_last_seq=0)),
        Code.ABORTED,
    )
    run = (await chat.GetRun(cpb.GetRunRequest(run_id=first.run_id))).run
    assert run.status == R.RUN_STATUS_RUNNING, f"a refused Steer stopped the run: {run}"
    await chat.Abort(cpb.AbortRequest(session_key="steer-stale"))


def release_stuck_runs(server: ServerHandle) -> int:
    """Marks runs whose task already exited without recording it as done, so that the
    server's shutdown (which waits for every run) cannot hang on them; returns how many."""
    executor = getattr(server.running, "executor", None)
    registry = getattr(executor, "registry", None)
    stuck = [a for a in (registry.all() if registry else []) if a.task and a.task.done()]
    for active in stuck:
        active.done.set()
        registry.remove(active.run_id)  # type: ignore[union-attr]
    return len(stuck)


@pytest.mark.parametrize(
    "config", [{"echo_delay_ms": 2, "delta_interval_ms": 0}], indirect=True, ids=["fast"]
)
async def test_abort_racing_the_end_of_a_run_returns(
    server: ServerHandle, sessions: Sessions, chat: Chat
) -> None:
    await create_session(sessions, key="photo-finish")
    await create_session(sessions, key="busy-writer")
    stop = asyncio.Event()

    async def keep_the_writer_busy() -> None:
        while not stop.is_set():
            await asyncio.gather(
                *(
                    chat.InjectMessage(
                        cpb.InjectMessageRequest(session_key="busy-writer", text="x" * 2000)
                    )
                    for _ in range(20)
                )
            )

    load = asyncio.create_task(keep_the_writer_busy())
    text = "abcdefghijkl"
    outcomes: dict[str, int] = {}
    try:
        async with watch(chat, "photo-finish") as reader:
            # Live before the first Send: the replayed creation event comes after the
            # stream has subscribed. A run this short can otherwise end before a stream
            # still opening subscribes, and deltas are not replayed (seen under load).
            await reader.next(10)
            for attempt in range(60):
                sent = await chat.Send(cpb.SendRequest(session_key="photo-finish", text=text))
                # The last delta is published just before the run records its end.
                await reader.read_until(
                    lambda r, run_id=sent.run_id: (
                        r.event.run_id == run_id
                        and r.event.delta.offset + len(r.event.delta.text) == len(text)
                    ),
                    timeout=10,
                )
                try:
                    aborted = await chat.Abort(
                        cpb.AbortRequest(session_key="photo-finish"), timeout=3
                    )
                except grpc.aio.AioRpcError as err:
                    raise AssertionError(
                        f"Abort at the end of run #{attempt} did not return: {err.code().name} "
                        f"(earlier outcomes {outcomes})"
                    ) from None
                name = cpb.AbortStatus.Name(aborted.status)
                outcomes[name] = outcomes.get(name, 0) + 1
                await reader.read_until(lambda r, run_id=sent.run_id: ends_run(r.event, run_id))
    finally:
        stop.set()
        await load
        release_stuck_runs(server)
