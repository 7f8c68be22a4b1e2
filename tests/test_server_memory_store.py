"""A server on the in-memory store (`SESSIOND_DATABASE_URL=memory:`): the same API, no file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ServerHandle
from helpers import body_of, create_session, list_messages, read_to_end
from sessiond import config as config_module
from sessiond.config import Config, ConfigError
from sessiond.server import start_server
from sessiond.store.memory import MemoryStore
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, database_url="memory:", echo_delay_ms=0)


async def test_a_server_on_the_memory_store_chats_without_a_file(
    server: ServerHandle,
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
    config: Config,
) -> None:
    assert server.running is not None
    assert isinstance(server.running.store, MemoryStore)
    await create_session(sessions, key="mem")
    responses = await read_to_end(chat.Chat(cpb.ChatRequest(session_key="mem", text="hello")))
    events = [r.event for r in responses]
    assert [body_of(e) for e in (events[0], events[-1])] == ["run_started", "final"]
    assert events[-1].final.message.text == "hello"
    stored = await list_messages(sessions, "mem")
    assert [m.text for m in stored] == ["hello", "hello"]
    assert not config.db_path.exists()


def test_the_store_url_comes_from_the_environment_and_the_file(tmp_path: Path) -> None:
    assert config_module.load({}).database_url == ""
    assert config_module.load({"SESSIOND_DATABASE_URL": "memory:"}).database_url == "memory:"
    toml = tmp_path / "sessiond.toml"
    toml.write_text('[server]\ndatabase_url = "memory:"\n')
    assert config_module.load({"SESSIOND_CONFIG": str(toml)}).database_url == "memory:"


async def test_an_unknown_store_url_is_refused_without_echoing_it(config: Config) -> None:
    url = "mysql://user:secret@db/sessiond"
    with pytest.raises(ConfigError, match="database_url") as refused:
        await start_server(replace(config, database_url=url))
    assert "secret" not in str(refused.value)
