"""Automatic compaction after runs and the periodic cleanup sweep (both off by default)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import assert_eventually
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb


@pytest.fixture
def config(config: Config) -> Config:
    return replace(
        config,
        echo_delay_ms=0,
        auto_compact_tokens=120,
        cleanup_interval_s=0.05,
        cleanup_max_count=2,
    )


async def test_context_past_the_threshold_compacts_after_the_run(
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    await sessions.CreateSession(spb.CreateSessionRequest(key="long"))
    for index in range(8):
        text = f"message {index} " + "lorem ipsum dolor sit amet " * 4
        sent = await chat.Send(cpb.SendRequest(session_key="long", text=text))
        await chat.WaitRun(cpb.WaitRunRequest(run_id=sent.run_id, timeout_ms=10_000))

    async def compacted() -> None:
        session = (await sessions.GetSession(spb.GetSessionRequest(key="long"))).session
        assert session.compaction_count >= 1

    await assert_eventually(compacted, timeout=10)
    checkpoints = await sessions.ListCheckpoints(spb.ListCheckpointsRequest(key="long"))
    assert checkpoints.checkpoints[-1].reason == "auto_compact"
    watch = chat.WatchChat(cpb.WatchChatRequest(session_key="long"))
    try:
        async for reply in watch:
            if reply.event.HasField("compaction"):
                assert reply.event.compaction.automatic
                assert reply.event.compaction.summary.startswith("Summary: ")
                break
    finally:
        watch.cancel()
    history = await sessions.ListMessages(spb.ListMessagesRequest(key="long"))
    assert history.messages[0].text.startswith("Summary: ")


async def test_periodic_sweep_applies_the_configured_policy(
    sessions: session_service_pb2_grpc.SessionServiceStub,
) -> None:
    keys = []
    for name in ("a", "b", "c", "d"):
        created = await sessions.CreateSession(spb.CreateSessionRequest(key=name))
        keys.append(created.session.key)

    async def capped() -> None:
        listed = await sessions.ListSessions(spb.ListSessionsRequest())
        assert [s.key for s in listed.sessions] == keys[:1:-1]

    await assert_eventually(capped, timeout=10)
    archives = await sessions.ListArchives(spb.ListArchivesRequest())
    assert {a.session_key for a in archives.archives} == set(keys[:2])
    assert {a.reason for a in archives.archives} == {"cleanup"}
