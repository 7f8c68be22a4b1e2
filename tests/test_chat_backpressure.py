"""A subscriber that stops reading must not slow anyone else down or grow the server."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from helpers import (
    StreamReader,
    assert_eventually,
    body_of,
    create_session,
    error_info,
    is_durable,
    wait_run,
)
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

if TYPE_CHECKING:
    from conftest import ServerHandle

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
R = resources_pb2

RUNS = 30
REPLY_CHARS = 40_000


@pytest.fixture
def config(config: Config) -> Config:
    # Small buffers, so the stalled client overflows within the 30 runs (about 90 durable
    # events); not so small that the reading client, which shares this process's one core
    # with the server producing 40 KB deltas as fast as it can, overflows in a burst (with
    # 8 it did once in about ten full test runs).
    return replace(
        config,
        subscriber_max_pending=32,
        echo_delay_ms=0,
        echo_chunk_chars=1000,
        max_queued_runs=RUNS,  # every Send queues behind the first
    )


def rss_bytes() -> int:
    """Resident set size of this process (the server runs in it)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def drain_lagging(call: Any, timeout: float) -> tuple[list[Any], grpc.aio.AioRpcError | None]:  # noqa: ASYNC109
    """Reads a stream until it fails or `timeout` passes with nothing more to read."""
    events: list[Any] = []
    while True:
        try:
            response = await asyncio.wait_for(call.read(), timeout)
        except TimeoutError:
            return events, None
        except grpc.aio.AioRpcError as err:
            return events, err
        assert response is not grpc.aio.EOF, "WatchChat ended without an error"
        events.append(response.event)


async def test_a_stalled_subscriber_does_not_hold_back_others(
    server: ServerHandle, sessions: Sessions, chat: Chat
) -> None:
    key = "agent:main:hot"
    await create_session(sessions, key="hot")
    rss_before = rss_bytes()
    subscribers_before = server.running.bus.subscriber_count() if server.running else 0
    loop = asyncio.get_running_loop()

    # Keep the stalled client's windows small so that the server really has to buffer.
    options = [("grpc.http2.bdp_probe", 0), ("grpc.max_receive_message_length", 64 << 20)]
    async with grpc.aio.insecure_channel(server.target, options=options) as stalled_channel:
        stalled = chat_service_pb2_grpc.ChatServiceStub(stalled_channel).WatchChat(
            cpb.WatchChatRequest(session_key=key)
        )
        await asyncio.wait_for(stalled.initial_metadata(), 5)

        async with StreamReader(chat.WatchChat(cpb.WatchChatRequest(session_key=key))) as reader:
            started = loop.time()
            sends = [
                await chat.Send(
                    cpb.SendRequest(session_key=key, text=f"{i:02d} " + "x" * REPLY_CHARS)
                )
                for i in range(RUNS)
            ]
            last = sends[-1].run_id
            slowest_get = 0.0
            finals: dict[str, str] = {}
            while last not in finals:
                event = (await reader.next(10)).event
                if body_of(event) == "final":
                    finals[event.run_id] = event.final.message.text
                    before = loop.time()
                    await sessions.GetSession(spb.GetSessionRequest(key=key), timeout=5)
                    slowest_get = max(slowest_get, loop.time() - before)
            elapsed = loop.time() - started

        assert set(finals) == {s.run_id for s in sends}
        assert all(text == "x" * REPLY_CHARS for text in (t[3:] for t in finals.values()))
        assert elapsed < 15, f"the reading subscriber needed {elapsed:.1f}s for {RUNS} runs"
        assert slowest_get < 1.0, f"GetSession took {slowest_get:.2f}s during the runs"
        for sent in sends:
            assert (await wait_run(chat, sent.run_id)).status == R.RUN_STATUS_DONE

        # Now read what the stalled stream kept: a consistent prefix, then RESOURCE_EXHAUSTED
        # telling where to resume.
        seen, error = await drain_lagging(stalled, timeout=2)
        durable = [e.cursor for e in seen if is_durable(e)]
        assert durable == list(range(1, len(durable) + 1)), "a gap in the stalled stream"
        stalled.cancel()

    assert error is not None, "the stalled client's buffer should have overflowed"
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
    _, metadata = error_info(error)
    assert "after_cursor" in (error.details() or "")
    resume = int(metadata["after_cursor"])
    assert resume == (durable[-1] if durable else 0)
    async with StreamReader(
        chat.WatchChat(cpb.WatchChatRequest(session_key=key, after_cursor=resume))
    ) as again:
        rest = await again.read_until(
            lambda r: r.event.run_id == last and body_of(r.event) == "final", timeout=10
        )
    seen += [r.event for r in rest]
    durable = [e.cursor for e in seen if is_durable(e)]
    assert durable == list(range(1, len(durable) + 1)), "resuming left a gap"
    got = {e.run_id for e in seen if body_of(e) == "final"}
    assert got == {s.run_id for s in sends}, "every final reaches the stalled client in the end"

    # Every stream is closed now: no subscription may be left behind on the bus.
    bus = server.running.bus if server.running else None
    if bus is not None:

        def no_leftover_subscriptions() -> None:
            assert bus.subscriber_count() == subscribers_before

        await assert_eventually(no_leftover_subscriptions)
    growth = rss_bytes() - rss_before
    assert growth < 100 * 1024 * 1024, f"RSS grew by {growth / 1e6:.0f} MB"
