"""Event-log retention: a resume from a dropped cursor is OUT_OF_RANGE, never a silent gap."""

from __future__ import annotations

from dataclasses import replace

import grpc
import pytest
from helpers import assert_eventually, expect_error, live
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, event_retention_s=0.2, echo_delay_ms=0)


async def _first_event(call: grpc.aio.UnaryStreamCall) -> object:  # type: ignore[type-arg]
    try:
        return await call.read()
    finally:
        call.cancel()


async def test_resuming_from_a_pruned_cursor_is_cursor_expired(
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    await sessions.CreateSession(spb.CreateSessionRequest(key="old"))
    sent = await chat.Send(cpb.SendRequest(session_key="old", text="hello"))
    await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=10_000))

    async def pruned() -> None:
        error = await expect_error(
            _first_event(chat.WatchChat(cpb.WatchChatRequest(session_key="old", after_cursor=1))),
            grpc.StatusCode.OUT_OF_RANGE,
            "CURSOR_EXPIRED",
        )
        assert "oldest" in (error.details() or "")

    await assert_eventually(pruned, timeout=10)
    await expect_error(
        _first_event(sessions.WatchSessions(spb.WatchSessionsRequest(after_cursor=1))),
        grpc.StatusCode.OUT_OF_RANGE,
        "CURSOR_EXPIRED",
    )
    # New events keep counting from the head, and a watch from the head still works.
    session = (await sessions.GetSession(spb.GetSessionRequest(key="old"))).session
    assert session.key == "agent:main:old"
    watch = chat.WatchChat(cpb.WatchChatRequest(session_key="old", start_at_end=True))
    await live(watch)
    update = spb.UpdateSessionRequest(
        key="old", update=spb.SessionUpdate(label="x"), update_mask={"paths": ["label"]}
    )
    await sessions.UpdateSession(update)
    event = (await _first_event(watch)).event  # type: ignore[attr-defined]
    assert event.cursor == 5


async def test_chat_retried_after_its_run_events_were_pruned_is_cursor_expired(
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    """A retried Chat re-attaches to its run and replays it from the store; with its events
    dropped it says so (it used to wait for an end that had been pruned)."""
    await sessions.CreateSession(spb.CreateSessionRequest(key="retry"))
    request = cpb.ChatRequest(session_key="retry", text="hello", idempotency_key="k-1")
    replies = [r.event.WhichOneof("body") async for r in chat.Chat(request)]
    assert replies[-1] == "final"

    async def pruned() -> None:
        await expect_error(
            _first_event(chat.WatchChat(cpb.WatchChatRequest(session_key="retry", after_cursor=1))),
            grpc.StatusCode.OUT_OF_RANGE,
            "CURSOR_EXPIRED",
        )

    await assert_eventually(pruned, timeout=10)
    error = await expect_error(
        _first_event(chat.Chat(request, timeout=10)), grpc.StatusCode.OUT_OF_RANGE, "CURSOR_EXPIRED"
    )
    assert "oldest retained" in (error.details() or "")
