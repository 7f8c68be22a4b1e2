"""A sessiond server on PostgreSQL, chosen by the config (`SESSIOND_DATABASE_URL` or
`[server] database_url`): the chat round trip, its replay, and a restart on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from conftest import ServerHandle
from helpers import body_of, is_durable, list_messages, read_to_end
from sessiond import config as config_module
from sessiond.config import Config
from sessiond.store.postgres import PostgresStore
from sessiond.store.sqlite import SqliteStore
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb
from sessiond.wiring import describe_store, store_is_shared, store_of


@pytest.fixture
async def pg_server(tmp_path: Path, postgres_url: str) -> AsyncIterator[ServerHandle]:
    config = Config(
        host="127.0.0.1",
        port=0,
        db_path=tmp_path / "unused.db",
        database_url=postgres_url,
        echo_delay_ms=0,
    )
    handle = ServerHandle(config)
    await handle.start()
    try:
        yield handle
    finally:
        await handle.stop()


async def _replay(chat: chat_service_pb2_grpc.ChatServiceStub, key: str, until: int) -> list[str]:
    """`cursor body` of each durable event of `key` up to cursor `until`, from the start."""
    call = chat.WatchChat(cpb.WatchChatRequest(session_key=key))
    seen: list[str] = []
    async for response in call:
        event = response.event
        if is_durable(event):
            seen.append(f"{event.cursor} {body_of(event)}")
            if event.cursor == until:
                call.cancel()
                break
    return seen


async def test_a_server_on_postgresql_chats_replays_and_restarts(
    pg_server: ServerHandle, tmp_path: Path
) -> None:
    async with grpc.aio.insecure_channel(pg_server.target) as channel:
        sessions = session_service_pb2_grpc.SessionServiceStub(channel)
        chat = chat_service_pb2_grpc.ChatServiceStub(channel)
        created = await sessions.CreateSession(spb.CreateSessionRequest(key="pg", label="On PG"))
        key = created.session.key
        stream = chat.Chat(cpb.ChatRequest(session_key=key, text="hello postgres"))
        events = [r.event for r in await read_to_end(stream)]
        final = events[-1]
        assert body_of(final) == "final"
        assert final.final.message.text == "hello postgres"
        replayed = await _replay(chat, key, final.cursor)
        assert replayed[0] == "1 session_changed"
        assert replayed[-1] == f"{final.cursor} final"
        assert [int(r.split()[0]) for r in replayed] == list(range(1, final.cursor + 1))
        before = await list_messages(sessions, key)

    await pg_server.restart()
    assert not (tmp_path / "unused.db").exists(), "nothing went to SQLite"

    async with grpc.aio.insecure_channel(pg_server.target) as channel:
        sessions = session_service_pb2_grpc.SessionServiceStub(channel)
        chat = chat_service_pb2_grpc.ChatServiceStub(channel)
        resolved = await sessions.ResolveSession(spb.ResolveSessionRequest(label="On PG"))
        assert resolved.key == key
        got = (await sessions.GetSession(spb.GetSessionRequest(key=key))).session
        assert got.message_count == 2
        assert [(m.seq, m.text) for m in await list_messages(sessions, key)] == [
            (m.seq, m.text) for m in before
        ]
        assert await _replay(chat, key, final.cursor) == replayed
        again = chat.Chat(cpb.ChatRequest(session_key=key, text="and again"))
        after_restart = [r.event for r in await read_to_end(again)]
        second_final = after_restart[-1]
        assert second_final.final.message.text == "and again"
        # Cursors go on from where they were: the whole log is still 1, 2, 3, ...
        whole = await _replay(chat, key, second_final.cursor)
        assert whole[: len(replayed)] == replayed
        assert [int(r.split()[0]) for r in whole] == list(range(1, second_final.cursor + 1))


def test_a_postgresql_url_selects_the_postgresql_store(tmp_path: Path) -> None:
    url = "postgresql://sessiond:s3cret@db.internal:5432/sessiond"
    loaded = config_module.load({"SESSIOND_DATABASE_URL": url, "SESSIOND_STORE_READERS": "2"})
    assert (loaded.database_url, loaded.store_readers) == (url, 2)
    assert "s3cret" not in repr(loaded)
    store = store_of(loaded)
    assert isinstance(store, PostgresStore)
    assert store_is_shared(loaded), "runs are leased: other replicas write the store too"
    assert store.readers == 2
    assert describe_store(loaded) == "postgresql://sessiond:***@db.internal:5432/sessiond"
    sqlite = store_of(replace(loaded, database_url="", db_path=tmp_path / "x.db"))
    assert isinstance(sqlite, SqliteStore)
    assert not store_is_shared(replace(loaded, database_url=""))
    assert not store_is_shared(replace(loaded, database_url="memory:"))


def test_the_store_url_comes_from_the_toml_file_and_the_env_beats_it(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text('[server]\ndatabase_url = "postgres://file/db"\nstore_readers = 3\n')
    from_file = config_module.load({"SESSIOND_CONFIG": str(toml)})
    assert (from_file.database_url, from_file.store_readers) == ("postgres://file/db", 3)
    env = {"SESSIOND_CONFIG": str(toml), "SESSIOND_DATABASE_URL": "postgresql://env/db"}
    assert config_module.load(env).database_url == "postgresql://env/db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSIOND_DATABASE_URL": "postgressql://typo/db"}, "unsupported store URL"),
        ({"SESSIOND_DATABASE_URL": "/var/lib/sessiond.db"}, "unsupported store URL"),
        ({"SESSIOND_STORE_READERS": "0"}, "store_readers must be at least 1"),
    ],
)
def test_a_bad_store_setting_is_reported(env: dict[str, str], message: str) -> None:
    with pytest.raises(config_module.ConfigError, match=message):
        config_module.load(env)
