"""Replicas on one PostgreSQL and one NATS, each reached on its own: calls spread over
them, a stream on one follows a run executing on another, and a replica killed with
SIGKILL mid-run loses nothing committed, leaves no run RUNNING past its lease, and the
clients of the others carry on (real processes for the kill)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
from cluster import ClusterHandle, cluster_config
from helpers import StreamReader, body_of, create_session, ends_run, list_messages, wait_run
from server_process import ServerProcess
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

R = resources_pb2
LEASE_MS = 2000
SLOW_TEXT = "a reply streamed slowly, one character at a time " * 4
LONG_TEXT = SLOW_TEXT * 10
"""About 5 s at the test server's echo pace (8 characters every 20 ms)."""


@contextlib.asynccontextmanager
async def stubs(target: str) -> AsyncIterator[tuple[Any, Any]]:
    async with grpc.aio.insecure_channel(target) as channel:
        yield (
            session_service_pb2_grpc.SessionServiceStub(channel),
            chat_service_pb2_grpc.ChatServiceStub(channel),
        )


@pytest.mark.parametrize("server", ["cluster"], indirect=True)
async def test_each_call_is_served_where_it_lands_and_runs_execute_there(
    server: ClusterHandle, chat: Any, sessions: Any
) -> None:
    """Six Sends through the spreading channel start two runs on each replica."""
    keys = [(await create_session(sessions, key=f"spread-{n}")).key for n in range(6)]
    sent = [await chat.Send(cpb.SendRequest(session_key=k, text=SLOW_TEXT * 3)) for k in keys]
    per_replica = [len(r.executor.registry) for r in server.replicas]
    assert per_replica == [2, 2, 2]
    for key, run in zip(keys, sent, strict=True):
        await chat.Abort(cpb.AbortRequest(session_key=key, run_id=run.run_id))


@pytest.mark.parametrize("server", ["cluster"], indirect=True)
async def test_a_stream_on_one_replica_follows_a_run_on_another(server: ClusterHandle) -> None:
    first, second, third = (f"127.0.0.1:{r.port}" for r in server.replicas)
    async with stubs(first) as (sessions, chat_a), stubs(second) as (_, chat_b):
        key = (await create_session(sessions, key="followed")).key
        watch = chat_b.WatchChat(cpb.WatchChatRequest(session_key=key))
        async with StreamReader(watch) as reader:
            sent = await chat_a.Send(cpb.SendRequest(session_key=key, text=SLOW_TEXT))
            events = await reader.read_until(lambda r: ends_run(r.event, sent.run_id), 20)
    text = "".join(r.event.delta.text for r in events if body_of(r.event) == "delta")
    final = next(r.event.final for r in events if body_of(r.event) == "final")
    assert text == final.message.text == SLOW_TEXT
    async with stubs(third) as (_, chat_c):
        waited = await wait_run(chat_c, sent.run_id)
    assert waited.status == R.RUN_STATUS_DONE


@pytest.mark.parametrize("server", ["cluster"], indirect=True)
async def test_a_stream_attached_mid_run_elsewhere_gets_the_reply_so_far(
    server: ClusterHandle,
) -> None:
    first, second, _ = (f"127.0.0.1:{r.port}" for r in server.replicas)
    async with stubs(first) as (sessions, chat_a), stubs(second) as (_, chat_b):
        key = (await create_session(sessions, key="attached")).key
        async with StreamReader(chat_a.WatchChat(cpb.WatchChatRequest(session_key=key))) as on_a:
            sent = await chat_a.Send(cpb.SendRequest(session_key=key, text=LONG_TEXT))
            for _ in range(2):  # some of the reply (a few seconds long) was streamed on a
                await on_a.read_until(
                    lambda r: r.event.run_id == sent.run_id and body_of(r.event) == "delta"
                )
        watch = chat_b.WatchChat(cpb.WatchChatRequest(session_key=key))
        async with StreamReader(watch) as on_b:
            events = await on_b.read_until(lambda r: ends_run(r.event, sent.run_id), 20)
    deltas = [r.event.delta for r in events if body_of(r.event) == "delta"]
    assert deltas[0].offset == 0, "the reply so far comes first, from offset 0"
    assert len(deltas[0].text) >= 5
    text = ""
    for delta in deltas:
        assert delta.offset <= len(text), "no hole"
        text = text[: delta.offset] + delta.text
    assert text == LONG_TEXT


async def test_a_reply_too_large_for_the_bus_reaches_a_stream_on_another_replica(
    config: Config, postgres_url: str, nats_url: str, nats_prefix: str
) -> None:
    """A final event over NATS's 1 MB `max_payload` crosses as a reference: the stream on
    the other replica reads it from the store and ends with it, WaitRun there returns."""
    fast = replace(config, echo_delay_ms=0, echo_chunk_chars=100_000)
    cluster = ClusterHandle(cluster_config(fast, postgres_url, nats_url, nats_prefix))
    await cluster.start()
    try:
        first, second, _ = (f"127.0.0.1:{r.port}" for r in cluster.replicas)
        text = "a long answer " * 80_000  # 1.1 MB
        async with stubs(first) as (sessions, chat_a), stubs(second) as (_, chat_b):
            key = (await create_session(sessions, key="huge")).key
            async with StreamReader(
                chat_b.WatchChat(cpb.WatchChatRequest(session_key=key))
            ) as on_b:
                await on_b.live()
                sent = await chat_a.Send(cpb.SendRequest(session_key=key, text=text))
                events = await on_b.read_until(lambda r: ends_run(r.event, sent.run_id), 20)
            waited = await wait_run(chat_b, sent.run_id)
    finally:
        await cluster.stop()
    final = events[-1].event.final
    assert (final.stop_reason, final.message.text) == ("completed", text)
    assert waited.status == R.RUN_STATUS_DONE


@pytest.fixture
async def replicas(
    tmp_path: Path, postgres_url: str, nats_url: str, nats_prefix: str
) -> AsyncIterator[list[ServerProcess]]:
    env = {
        "SESSIOND_DATABASE_URL": postgres_url,
        "SESSIOND_NATS_URL": nats_url,
        "SESSIOND_NATS_SUBJECT_PREFIX": nats_prefix,
        "SESSIOND_RUN_LEASE_MS": str(LEASE_MS),
        "SESSIOND_RUN_LEASE_RENEW_MS": "300",
    }
    started = [
        ServerProcess(tmp_path / f"unused-{n}.db", tmp_path / f"replica-{n}.log", env)
        for n in range(3)
    ]
    try:
        await asyncio.gather(*(replica.start() for replica in started))
        yield started
    finally:
        for replica in started:
            await replica.kill()


async def test_a_replica_killed_mid_run_loses_nothing_and_the_others_carry_on(
    replicas: list[ServerProcess],
) -> None:
    doomed, survivor, other = replicas
    async with (
        stubs(doomed.target) as (_, chat_a),
        stubs(survivor.target) as (sessions_b, chat_b),
        stubs(other.target) as (_, chat_c),
    ):
        key = (await create_session(sessions_b, key="crash")).key
        watch = chat_b.WatchChat(cpb.WatchChatRequest(session_key=key))
        async with StreamReader(watch) as reader:
            first = await chat_a.Send(cpb.SendRequest(session_key=key, text=SLOW_TEXT))
            queued = await chat_c.Send(cpb.SendRequest(session_key=key, text="after the crash"))
            assert (first.status, queued.status) == (
                cpb.SEND_STATUS_STARTED,
                cpb.SEND_STATUS_QUEUED,
            )
            for _ in range(3):  # the run streams on a, watched on b
                await reader.read_until(
                    lambda r: r.event.run_id == first.run_id and body_of(r.event) == "delta"
                )
            await doomed.signal(signal.SIGKILL)
            assert await doomed.wait() == -signal.SIGKILL
            # b's stream carries on: the crashed run is closed by a survivor once its lease
            # expires, and the queued run then runs there, to its end.
            events = await reader.read_until(lambda r: ends_run(r.event, queued.run_id), 30)

        closed = await wait_run(chat_b, first.run_id)
        assert (closed.status, closed.stop_reason) == (R.RUN_STATUS_ERROR, "server_restart")
        done = await wait_run(chat_c, queued.run_id)
        assert (done.status, done.stop_reason) == (R.RUN_STATUS_DONE, "completed")
        assert [body_of(r.event) for r in events if ends_run(r.event, first.run_id)] == ["error"]

        replay = await _replay(chat_c, key, queued.run_id)
        cursors = [e.cursor for e in replay]
        assert cursors == list(range(1, len(cursors) + 1)), "every committed event, once"
        messages = await list_messages(sessions_b, key)
        users = [(m.text, m.run_id) for m in messages if m.role == R.ROLE_USER]
        assert users == [(SLOW_TEXT, first.run_id), ("after the crash", queued.run_id)]
        session = (await sessions_b.GetSession(spb.GetSessionRequest(key=key))).session
        assert not session.has_active_run

        # The survivors serve new work as before.
        again = await chat_b.Send(cpb.SendRequest(session_key=key, text="still here"))
        assert (await wait_run(chat_c, again.run_id)).status == R.RUN_STATUS_DONE


async def _replay(chat: Any, key: str, last_run: str) -> list[Any]:
    watch = chat.WatchChat(cpb.WatchChatRequest(session_key=key))
    async with StreamReader(watch) as reader:
        responses = await reader.read_until(lambda r: ends_run(r.event, last_run), 10)
    return [r.event for r in responses if body_of(r.event) not in ("delta", "heartbeat")]
