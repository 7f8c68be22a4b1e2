"""SIGTERM on a real `sessiond serve` process with an open WatchChat stream and a run in
flight: drain (NOT_SERVING while still serving), streams end UNAVAILABLE, the run ends
`shutdown` with its partial reply saved, exit 0 within the grace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import StreamReader, assert_eventually, body_of, list_messages
from sessiond.config import Config
from sessiond.server import start_server
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

TOKEN = "shutdown-test-token-0123456789"
AUTH = (("authorization", f"Bearer {TOKEN}"),)
DRAIN_MS = 700
GRACE_S = 3.0


class Process:
    """A `sessiond serve` subprocess and its JSON log lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for line in self.proc.stderr:
            text = line.decode()
            self.raw.append(text)
            with contextlib.suppress(ValueError):
                self.lines.append(json.loads(text))

    def events(self, name: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("event") == name]


@pytest.fixture
async def process(tmp_path: Path) -> AsyncIterator[Process]:
    tokens = tmp_path / "tokens.toml"
    tokens.write_text(f'[[tokens]]\nname = "tester"\ntoken = "{TOKEN}"\nscopes = ["admin"]\n')
    env = {
        **os.environ,
        "SESSIOND_PORT": "0",
        "SESSIOND_DB": str(tmp_path / "sessiond.db"),
        "SESSIOND_TOKENS_FILE": str(tokens),
        "SESSIOND_DRAIN_MS": str(DRAIN_MS),
        "SESSIOND_GRACE_S": str(GRACE_S),
        "SESSIOND_ECHO_CHUNK_CHARS": "2",
        "SESSIOND_ECHO_DELAY_MS": "40",
        "SESSIOND_LOG_FORMAT": "json",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sessiond", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )
    running = Process(proc)
    try:
        yield running
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        running.reader.cancel()


async def test_sigterm_drains_ends_streams_and_saves_the_partial(
    process: Process, tmp_path: Path
) -> None:
    def started() -> int:
        found = process.events("server.started")
        assert found, f"server did not start: {''.join(process.raw)[-2000:]}"
        return int(found[0]["port"])

    port = await assert_eventually(started, timeout=20)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        sessions = session_service_pb2_grpc.SessionServiceStub(channel)
        chat = chat_service_pb2_grpc.ChatServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        await sessions.CreateSession(spb.CreateSessionRequest(key="drain"), metadata=AUTH)
        watch = chat.WatchChat(cpb.WatchChatRequest(session_key="drain"), metadata=AUTH)
        async with StreamReader[Any](watch) as reader:
            sent = await chat.Send(
                cpb.SendRequest(session_key="drain", text="partial reply " * 40), metadata=AUTH
            )
            await reader.read_until(lambda r: body_of(r.event) == "delta", timeout=10)

            process.proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()

            async def not_serving() -> None:
                reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=2)
                assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING

            await assert_eventually(not_serving, timeout=DRAIN_MS / 1000)
            # Still serving while draining: the load balancer may send a last few calls.
            got = await sessions.GetSession(spb.GetSessionRequest(key="drain"), metadata=AUTH)
            assert got.session.key == "agent:main:drain"

            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await reader.read_until(lambda r: False, timeout=DRAIN_MS / 1000 + GRACE_S)
            assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "shutting down" in (ended.value.details() or "")

    code = await asyncio.wait_for(process.proc.wait(), DRAIN_MS / 1000 + GRACE_S + 5)
    assert code == 0
    assert time.monotonic() - signalled < DRAIN_MS / 1000 + GRACE_S + 2
    await process.reader
    assert process.events("server.draining")
    assert process.events("server.stopped")
    assert TOKEN not in "".join(process.raw), "a token reached the log"
    access = process.events("rpc")
    assert access, "access log lines"
    assert all(line["request_id"] for line in access)
    api_calls = [line for line in access if line["method"].startswith("/sessiond.")]
    assert {line.get("principal") for line in api_calls} == {"tester"}, "the token's name"
    assert {line["code"] for line in access if line["method"].endswith("/Send")} == {"OK"}

    await _assert_run_shutdown_with_partial(tmp_path / "sessiond.db", sent.run_id)


async def _assert_run_shutdown_with_partial(db: Path, run_id: str) -> None:
    running = await start_server(Config(port=0, db_path=db, echo_delay_ms=0))
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            chat = chat_service_pb2_grpc.ChatServiceStub(channel)
            sessions = session_service_pb2_grpc.SessionServiceStub(channel)
            run = (await chat.GetRun(cpb.GetRunRequest(run_id=run_id))).run
            assert run.status == resources_pb2.RUN_STATUS_ABORTED
            assert run.stop_reason == "shutdown"
            replies = [
                m
                for m in await list_messages(sessions, "drain")
                if m.role == resources_pb2.ROLE_ASSISTANT and m.run_id == run_id
            ]
            assert len(replies) == 1, "the partial reply is saved once"
            assert replies[0].stop_reason == "shutdown"
            assert replies[0].text
            assert ("partial reply " * 40).startswith(replies[0].text)
            assert len(replies[0].text) < len("partial reply " * 40)
    finally:
        await running.stop(0)
