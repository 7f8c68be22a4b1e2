"""Every change of a session reaches WatchSessions with a true snapshot, and the changes
that touch a session's queue, checkpoints, idempotency keys and runs keep their promises:
the queue is capped, a reset aborts it, cleanup drops checkpoints with the session, a
re-created key starts a new idempotency scope, and compaction neither stops a run for
nothing nor fails because a message arrived while it wrote its summary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import grpc
import pytest
from fake_openai import FakeOpenAI, Reply
from helpers import (
    StreamReader,
    assert_eventually,
    create_session,
    error_info,
    expect_error,
    list_messages,
    wait_run,
)
from sessiond.config import AgentConfig, Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Feed = StreamReader[spb.WatchSessionsResponse]
E = events_pb2
R = resources_pb2
SLOW = "a reply long enough to be interrupted " * 8


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
    gpt = AgentConfig(backend="openai", base_url=fake.base_url, model="fake-model")
    return replace(
        config,
        agents={"main": AgentConfig(), "gpt": gpt},
        echo_delay_ms=10,
        echo_chunk_chars=2,
        max_queued_runs=3,
    )


def feed(sessions: Sessions) -> Feed:
    """Every change from the first (each test has a database of its own): a stream that
    starts at the end could open after the change it waits for."""
    return StreamReader(sessions.WatchSessions(spb.WatchSessionsRequest()))


async def changes_until(reader: Feed, key: str, reason: int) -> list[E.SessionEvent]:
    """The feed's events of `key` up to and including the first with `reason`."""
    got: list[E.SessionEvent] = []
    while True:
        event = (await reader.next(10.0)).event
        if event.session_key == key:
            got.append(event)
            if event.reason == reason:
                return got


# -- WatchSessions carries every change --------------------------------------------------


async def test_an_injected_message_is_a_change_with_its_count(
    sessions: Sessions, chat: Chat
) -> None:
    key = (await create_session(sessions, key="inj")).key
    async with feed(sessions) as reader:
        await chat.InjectMessage(cpb.InjectMessageRequest(session_key=key, text="note"))
        *_, event = await changes_until(reader, key, E.SESSION_EVENT_REASON_INJECT)
    assert event.session.message_count == 1
    assert [m.text for m in await list_messages(sessions, key)] == ["note"]


async def test_tool_entries_are_changes_and_every_count_is_the_transcript_length(
    sessions: Sessions, chat: Chat, fake: FakeOpenAI
) -> None:
    key = (await create_session(sessions, agent_id="gpt")).key
    fake.replies.append(Reply(chunks=["Looking."], tool_calls=[("call_1", "search", "{}")]))
    async with feed(sessions) as reader:
        sent = await chat.Send(cpb.SendRequest(session_key=key, text="find it"))
        await wait_run(chat, sent.run_id)
        events = await changes_until(reader, key, E.SESSION_EVENT_REASON_RUN_END)
    reasons = [e.reason for e in events]
    assert E.SESSION_EVENT_REASON_TOOL in reasons, reasons
    transcript = await list_messages(sessions, key, include_silent=True)
    tool_change = events[reasons.index(E.SESSION_EVENT_REASON_TOOL)]
    # Written at the call's END: the question, the call, its (unanswered) result.
    assert tool_change.session.message_count == 3
    assert events[-1].session.message_count == len(transcript)
    counts = [e.session.message_count for e in events]
    assert counts == sorted(counts)


async def test_a_stopped_run_leaving_only_cancelled_tool_results_counts_them(
    sessions: Sessions, chat: Chat, fake: FakeOpenAI
) -> None:
    key = (await create_session(sessions, agent_id="gpt")).key
    fake.replies.append(Reply(tool_calls=[("call_1", "search", "{}")]))
    async with feed(sessions) as reader:
        sent = await chat.Send(cpb.SendRequest(session_key=key, text="find it"))
        await wait_run(chat, sent.run_id)
        events = await changes_until(reader, key, E.SESSION_EVENT_REASON_RUN_END)
    transcript = await list_messages(sessions, key, include_silent=True)
    assert [m.role for m in transcript] == [R.ROLE_USER, R.ROLE_TOOL_CALL, R.ROLE_TOOL_RESULT]
    assert events[-1].session.message_count == 3


async def test_a_steer_is_a_steer_change_and_a_branch_is_a_change_of_the_new_session(
    sessions: Sessions, chat: Chat
) -> None:
    key = (await create_session(sessions, key="steered")).key
    async with feed(sessions) as reader:
        await chat.Send(cpb.SendRequest(session_key=key, text=SLOW))
        steer = await chat.Steer(cpb.SteerRequest(session_key=key, text="stop, do this"))
        assert steer.interrupted_active_run
        await wait_run(chat, steer.run_id)
        events = await changes_until(reader, key, E.SESSION_EVENT_REASON_STEER)
        assert events[-1].run_id == steer.run_id
        compacted = await sessions.CompactSession(spb.CompactSessionRequest(key=key, max_lines=1))
        branch = await sessions.BranchCheckpoint(
            spb.BranchCheckpointRequest(key=key, checkpoint_id=compacted.checkpoint_id)
        )
        new_key = branch.session.key
        *_, change = await changes_until(reader, new_key, E.SESSION_EVENT_REASON_CHECKPOINT_BRANCH)
    assert change.session.parent_session_key == key
    assert change.session.message_count == len(await list_messages(sessions, new_key))


# -- the queue ---------------------------------------------------------------------------


async def test_a_send_past_the_queue_cap_is_queue_full(sessions: Sessions, chat: Chat) -> None:
    key = (await create_session(sessions, key="capped")).key
    first = await chat.Send(cpb.SendRequest(session_key=key, text=SLOW))
    for n in range(3):
        queued = await chat.Send(cpb.SendRequest(session_key=key, text=f"queued {n}"))
        assert queued.status == cpb.SEND_STATUS_QUEUED
    err = await expect_error(
        chat.Send(cpb.SendRequest(session_key=key, text="one too many")),
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    )
    reason, metadata = error_info(err)
    assert reason == "QUEUE_FULL"
    assert metadata["max_queued_runs"] == "3"
    runs = await chat.ListRuns(cpb.ListRunsRequest(session_key=key))
    assert len(runs.runs) == 4, "the refused Send left no run"
    assert len(await list_messages(sessions, key)) == 4, "and no message"
    await chat.Abort(cpb.AbortRequest(session_key=key, clear_queue=True))
    await wait_run(chat, first.run_id)


async def test_a_reset_aborts_the_queue(sessions: Sessions, chat: Chat) -> None:
    key = (await create_session(sessions, key="reset-queue")).key
    first = await chat.Send(cpb.SendRequest(session_key=key, text=SLOW))
    waiting = await chat.Send(cpb.SendRequest(session_key=key, text="still waiting"))
    assert waiting.status == cpb.SEND_STATUS_QUEUED
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key=key))
    dropped = await wait_run(chat, waiting.run_id)
    assert dropped.status == R.RUN_STATUS_ABORTED
    assert dropped.stop_reason == "aborted"
    assert (await wait_run(chat, first.run_id)).stop_reason == "interrupted"
    assert await list_messages(sessions, key) == [], "nothing carried into the new transcript"
    assert reset.session.message_count == 0
    assert not (await sessions.GetSession(spb.GetSessionRequest(key=key))).session.has_active_run
    archived = await sessions.ListMessages(
        spb.ListMessagesRequest(session_id=reset.previous_session_id)
    )
    assert "still waiting" in [m.text for m in archived.messages], "archived, never lost"


# -- cleanup, idempotency ------------------------------------------------------------------


async def test_cleanup_removes_the_checkpoints_of_the_sessions_it_removes(
    sessions: Sessions, chat: Chat
) -> None:
    key = (await create_session(sessions, key="old")).key
    for text in ("one", "two"):
        sent = await chat.Send(cpb.SendRequest(session_key=key, text=text))
        await wait_run(chat, sent.run_id)
    compacted = await sessions.CompactSession(spb.CompactSessionRequest(key=key, max_lines=1))
    assert compacted.compacted
    await create_session(sessions, key="newer")
    cleaned = await sessions.CleanupSessions(spb.CleanupSessionsRequest(max_count=1, dry_run=False))
    assert cleaned.cap_overflow == 1
    await create_session(sessions, key="old")
    listed = await sessions.ListCheckpoints(spb.ListCheckpointsRequest(key=key))
    assert list(listed.checkpoints) == []
    await expect_error(
        sessions.GetCheckpoint(
            spb.GetCheckpointRequest(key=key, checkpoint_id=compacted.checkpoint_id)
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_a_re_created_key_is_a_new_idempotency_scope(sessions: Sessions, chat: Chat) -> None:
    key = (await create_session(sessions, key="again")).key
    request = cpb.SendRequest(session_key=key, text="hello", idempotency_key="req-1")
    first = await chat.Send(request)
    await wait_run(chat, first.run_id)
    assert (await chat.Send(request)).status == cpb.SEND_STATUS_DUPLICATE
    await sessions.ResetSession(spb.ResetSessionRequest(key=key))
    retried = await chat.Send(request)
    assert retried.status == cpb.SEND_STATUS_DUPLICATE, "a reset keeps the session's scope"
    assert retried.run_id == first.run_id

    await sessions.DeleteSession(spb.DeleteSessionRequest(key=key))
    await create_session(sessions, key="again")
    fresh = await chat.Send(request)
    assert fresh.status == cpb.SEND_STATUS_STARTED
    assert fresh.run_id != first.run_id
    await wait_run(chat, fresh.run_id)
    assert [m.text for m in await list_messages(sessions, key)] == ["hello", "hello"]


# -- compaction and the active run --------------------------------------------------------


async def test_a_compaction_with_nothing_to_compact_leaves_the_run_alone(
    sessions: Sessions, chat: Chat
) -> None:
    key = (await create_session(sessions, key="noop")).key
    sent = await chat.Send(cpb.SendRequest(session_key=key, text=SLOW))
    result = await sessions.CompactSession(spb.CompactSessionRequest(key=key, max_lines=50))
    assert not result.compacted
    run = await wait_run(chat, sent.run_id)
    assert run.stop_reason == "completed"
    assert [m.text for m in await list_messages(sessions, key)] == [SLOW, SLOW]


async def test_a_message_arriving_during_a_summary_is_carried_and_its_run_goes_on(
    sessions: Sessions, chat: Chat, fake: FakeOpenAI
) -> None:
    key = (await create_session(sessions, agent_id="gpt")).key
    for n in range(4):
        fake.replies.append(Reply(chunks=[f"answer {n}"]))
        sent = await chat.Send(cpb.SendRequest(session_key=key, text=f"question {n}"))
        await wait_run(chat, sent.run_id)
    fake.replies.append(Reply(chunks=["the summary"], delay_s=0.5))  # the summary is slow
    compacted = asyncio.Event()
    fake.replies.append(Reply(chunks=["late ", "answer"], gate=compacted))
    compaction = asyncio.ensure_future(
        sessions.CompactSession(spb.CompactSessionRequest(key=key, keep_recent=2))
    )
    await assert_eventually(lambda: _asked(fake, 5))  # the summary was asked for
    late = await chat.Send(cpb.SendRequest(session_key=key, text="late question"))
    assert late.status == cpb.SEND_STATUS_STARTED
    result = await compaction
    assert result.compacted
    compacted.set()  # the late run was still streaming when the compaction committed
    run = await wait_run(chat, late.run_id)
    assert run.stop_reason == "completed"
    texts = [m.text for m in await list_messages(sessions, key)]
    assert texts == [
        "the summary",
        "question 3",
        "answer 3",
        "late question",
        "late answer",
    ]
    assert run.session_id == result.session.session_id


def _asked(fake: FakeOpenAI, count: int) -> None:
    assert len(fake.requests) == count
