"""Fixtures: a real grpc.aio sessiond server on a free port with a real SQLite file, or
with `SESSIOND_TEST_STORE=postgres` a fresh database of a real PostgreSQL (the whole
suite then runs its servers on the PostgreSQL store); with `SESSIOND_TEST_BUS=nats` the
servers publish and receive live events through a real NATS server.

A module marked `replicated` runs each of its tests twice: against one server, and
against three replicas on one PostgreSQL and one NATS with the client's calls spread over
them (tests/cluster.py); a test marked `one_server` there runs against one server only
(it reaches into the server's process)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from cluster import ClusterHandle, cluster_config
from fake_openai import FakeOpenAI
from nats_broker import nats_prefix, nats_server, nats_url  # noqa: F401 - fixtures
from postgres_db import postgres_server, postgres_url  # noqa: F401 - fixtures
from sessiond.config import BusConfig, Config
from sessiond.server import RunningServer, start_server
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc


class ServerHandle:
    """A running sessiond that a test can stop and start again on the same database."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.running: RunningServer | None = None

    @property
    def target(self) -> str:
        assert self.running is not None
        return f"127.0.0.1:{self.running.port}"

    async def start(self) -> None:
        self.running = await start_server(self.config)
        # Restarts reuse the bound port so existing channels reconnect.
        self.config = replace(self.config, port=self.running.port)

    async def stop(self, grace: float = 1.0) -> None:
        if self.running is not None:
            await self.running.stop(grace)
            self.running = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def channel_options(self) -> list[tuple[str, object]]:
        return []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    definition = metafunc.definition
    if (
        "server" in metafunc.fixturenames
        and definition.get_closest_marker("replicated")
        and not definition.get_closest_marker("one_server")
    ):
        metafunc.parametrize("server", ["one", "cluster"], indirect=True)


@pytest.fixture
def config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    database_url = ""
    if os.environ.get("SESSIOND_TEST_STORE") == "postgres":
        database_url = request.getfixturevalue("postgres_url")
    config = Config(
        host="127.0.0.1", port=0, db_path=tmp_path / "sessiond.db", database_url=database_url
    )
    if os.environ.get("SESSIOND_TEST_BUS") == "nats":
        nats = BusConfig(
            request.getfixturevalue("nats_url"), request.getfixturevalue("nats_prefix")
        )
        config = replace(config, bus=nats)
    return config


@pytest.fixture
async def server(
    config: Config, request: pytest.FixtureRequest
) -> AsyncIterator[ServerHandle | ClusterHandle]:
    handle: ServerHandle | ClusterHandle
    if getattr(request, "param", "one") == "cluster":
        replica = cluster_config(
            config,
            request.getfixturevalue("postgres_url"),
            request.getfixturevalue("nats_url"),
            request.getfixturevalue("nats_prefix"),
        )
        handle = ClusterHandle(replica)
    else:
        handle = ServerHandle(config)
    await handle.start()
    try:
        yield handle
    finally:
        await handle.stop()


@pytest.fixture
async def channel(server: ServerHandle | ClusterHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target, options=server.channel_options) as chan:
        yield chan


@pytest.fixture
def sessions(channel: grpc.aio.Channel) -> session_service_pb2_grpc.SessionServiceStub:
    return session_service_pb2_grpc.SessionServiceStub(channel)


@pytest.fixture
def chat(channel: grpc.aio.Channel) -> chat_service_pb2_grpc.ChatServiceStub:
    return chat_service_pb2_grpc.ChatServiceStub(channel)


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    """The fake OpenAI-compatible provider, strict: a request a strict provider would
    refuse fails the test (a test that sends one on purpose empties `rejected`)."""
    server = FakeOpenAI()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    assert server.rejected == [], "requests a strict provider would refuse"
