"""Crash recovery and shutdown of a real `sessiond serve` process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import (
    StreamReader,
    assert_eventually,
    body_of,
    create_session,
    ends_run,
    list_messages,
    wait_run,
)
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, resources_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

if TYPE_CHECKING:
    from conftest import ServerHandle

R = resources_pb2
SESSIOND = Path(sys.executable).parent / "sessiond"
LONG_TEXT = "The quick brown fox jumps over the lazy dog. " * 5  # 225 chars: 11 s at 50 ms each
SHORT_TEXT = "after the crash"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`sessiond serve` in a subprocess on a free port, logging to a file."""

    def __init__(self, db: Path, log_path: Path) -> None:
        self.db = db
        self.log_path = log_path
        self.port = 0
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIOND_")}
        env |= {
            "SESSIOND_ECHO_DELAY_MS": "50",
            "SESSIOND_ECHO_CHUNK_CHARS": "1",
            "SESSIOND_GRACE_S": "1",
            "SESSIOND_DRAIN_MS": "100",
            "SESSIOND_LOG_LEVEL": "warning",
        }
        self.port = free_port()
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            str(SESSIOND),
            "serve",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=self._log,
            stderr=asyncio.subprocess.STDOUT,
        )
        await self._wait_serving()

    async def _wait_serving(self) -> None:
        # Short reconnect backoff: the port opens a moment after the process starts.
        options = [
            ("grpc.initial_reconnect_backoff_ms", 50),
            ("grpc.min_reconnect_backoff_ms", 50),
            ("grpc.max_reconnect_backoff_ms", 100),
        ]
        async with grpc.aio.insecure_channel(self.target, options=options) as channel:
            health = health_pb2_grpc.HealthStub(channel)

            async def serving() -> None:
                assert self.process is not None
                if self.process.returncode is not None:
                    pytest.fail(
                        f"sessiond exited with {self.process.returncode}:\n{self.log_text()}"
                    )
                try:
                    response = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.aio.AioRpcError as err:
                    raise AssertionError(f"not serving yet: {err.code()}") from None
                assert response.status == health_pb2.HealthCheckResponse.SERVING

            await assert_eventually(serving, timeout=20, interval=0.05)

    async def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, timeout: float = 15) -> int:  # noqa: ASYNC109
        assert self.process is not None
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"sessiond still running after {timeout}s:\n{self.log_text()}"
            ) from None
        self._close_log()
        return code

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        self._close_log()


@pytest.fixture
async def proc(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(tmp_path / "db" / "sessiond.db", tmp_path / "sessiond.log")
    server.db.parent.mkdir()
    try:
        yield server
    finally:
        await server.kill()


@contextlib.asynccontextmanager
async def stubs(
    target: str,
) -> AsyncIterator[
    tuple[session_service_pb2_grpc.SessionServiceStub, chat_service_pb2_grpc.ChatServiceStub]
]:
    async with grpc.aio.insecure_channel(target) as channel:
        yield (
            session_service_pb2_grpc.SessionServiceStub(channel),
            chat_service_pb2_grpc.ChatServiceStub(channel),
        )


async def read_forever(reader: StreamReader[cpb.WatchChatResponse]) -> None:
    """Reads until the stream fails (or ends, which fails the read with AssertionError)."""
    while True:
        await reader.next(5)


async def test_sigkill_mid_run_then_restart(proc: ServerProcess) -> None:
    await proc.start()
    async with stubs(proc.target) as (sessions, chat):
        await create_session(sessions, key="crash")
        watch = chat.WatchChat(cpb.WatchChatRequest(session_key="crash"))
        async with StreamReader(watch) as reader:
            first = await chat.Send(cpb.SendRequest(session_key="crash", text=LONG_TEXT))
            second = await chat.Send(cpb.SendRequest(session_key="crash", text=SHORT_TEXT))
            assert first.status == cpb.SEND_STATUS_STARTED
            assert second.status == cpb.SEND_STATUS_QUEUED
            for _ in range(3):
                await reader.read_until(
                    lambda r: r.event.run_id == first.run_id and body_of(r.event) == "delta"
                )
            await proc.signal(signal.SIGKILL)
            assert await proc.wait() == -signal.SIGKILL

    await proc.start()
    async with stubs(proc.target) as (sessions, chat):
        crashed = await wait_run(chat, first.run_id)
        assert crashed.status == R.RUN_STATUS_ERROR
        assert crashed.stop_reason == "server_restart"
        queued = await wait_run(chat, second.run_id, timeout=15)
        assert queued.status == R.RUN_STATUS_DONE
        assert queued.stop_reason == "completed"

        watch = chat.WatchChat(cpb.WatchChatRequest(session_key="crash"))
        async with StreamReader(watch) as reader:
            replay = await reader.read_until(lambda r: ends_run(r.event, second.run_id))
        ends = [r.event for r in replay if ends_run(r.event, first.run_id)]
        assert [body_of(e) for e in ends] == ["error"]
        assert ends[0].error.stop_reason == "server_restart"
        cursors = [r.event.cursor for r in replay if body_of(r.event) not in ("delta", "heartbeat")]
        assert cursors == list(range(1, len(cursors) + 1))

        messages = await list_messages(sessions, "crash")
        users = [(m.seq, m.text, m.run_id) for m in messages if m.role == R.ROLE_USER]
        assert users == [(1, LONG_TEXT, first.run_id), (2, SHORT_TEXT, second.run_id)]
        replies = [m for m in messages if m.role == R.ROLE_ASSISTANT]
        assert [m.text for m in replies if m.run_id == second.run_id] == [SHORT_TEXT]
        assert [m.seq for m in messages] == list(range(1, len(messages) + 1))
        session = (await sessions.GetSession(spb.GetSessionRequest(key="crash"))).session
        assert not session.has_active_run

    await proc.signal(signal.SIGTERM)
    assert await proc.wait() == 0


async def test_sigterm_ends_streams_and_runs_cleanly(proc: ServerProcess) -> None:
    await proc.start()
    async with stubs(proc.target) as (sessions, chat):
        await create_session(sessions, key="term")
        watch = chat.WatchChat(cpb.WatchChatRequest(session_key="term"))
        async with StreamReader(watch) as reader:
            sent = await chat.Send(cpb.SendRequest(session_key="term", text=LONG_TEXT))
            await reader.read_until(
                lambda r: r.event.run_id == sent.run_id and body_of(r.event) == "delta"
            )
            await proc.signal(signal.SIGTERM)
            assert await proc.wait() == 0, proc.log_text()
            # The open stream was ended by the server, not left hanging.
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await read_forever(reader)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE

    await proc.start()
    async with stubs(proc.target) as (_, chat):
        run = (await chat.GetRun(cpb.GetRunRequest(run_id=sent.run_id))).run
        assert run.status == R.RUN_STATUS_ABORTED
        assert run.stop_reason == "shutdown"


async def test_graceful_restart_does_not_abandon_queued_runs(server: ServerHandle) -> None:
    async with stubs(server.target) as (sessions, chat):
        await create_session(sessions, key="queue-restart")
        first = await chat.Send(cpb.SendRequest(session_key="queue-restart", text="x" * 4000))
        second = await chat.Send(cpb.SendRequest(session_key="queue-restart", text="queued"))
        assert second.status == cpb.SEND_STATUS_QUEUED

    await server.restart()

    async with stubs(server.target) as (sessions, chat):
        stopped = await wait_run(chat, first.run_id)
        assert stopped.status == R.RUN_STATUS_ABORTED
        assert stopped.stop_reason == "shutdown"
        queued = await wait_run(chat, second.run_id)
        # Either still queued through the restart and answered now, or cancelled by the
        # shutdown; never started during shutdown and then abandoned as a crash.
        assert queued.stop_reason != "server_restart", "queued run abandoned by a clean stop"
        if queued.status == R.RUN_STATUS_DONE:
            replies = [
                m.text
                for m in await list_messages(sessions, "queue-restart")
                if m.role == R.ROLE_ASSISTANT and m.run_id == second.run_id
            ]
            assert replies == ["queued"]
        else:
            assert queued.status == R.RUN_STATUS_ABORTED
            assert queued.stop_reason == "shutdown"
