"""`sessiond serve` in a subprocess: what a crash (SIGKILL) or a signal does to a real
process, alone or as one replica of a cluster."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from pathlib import Path
from typing import IO

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import assert_eventually

SESSIOND = Path(sys.executable).parent / "sessiond"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`sessiond serve` in a subprocess on a free port, logging to a file."""

    def __init__(self, db: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.db = db
        self.log_path = log_path
        self.env = dict(env or {})
        """Settings on top of the test defaults (a cluster's store and bus, leases)."""
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
        } | self.env
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
