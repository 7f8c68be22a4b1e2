"""A sessiond on the NATS bus (`SESSIOND_NATS_URL`): WatchChat and WatchSessions work end
to end, what the server commits goes out on NATS for other replicas (a NatsBus of the
test's own plays one), and what another replica publishes reaches the server's streams.

Two servers sharing one store come with the PostgreSQL store (the SQLite store is its
file's only writer); here the other replica is a bare bus.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ServerHandle
from helpers import StreamReader, apply_delta, body_of, create_session
from sessiond import config as config_module
from sessiond.bus.base import Subscription
from sessiond.bus.nats import NatsBus
from sessiond.config import BusConfig, Config
from sessiond.core.committer import FEED_TOPIC, chat_topic
from sessiond.domain.events import Event, Final, LiveDelta
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
KEY = "agent:main:nats"
TEXT = "Hello over NATS, grüß dich 🌍"


@pytest.fixture
def config(config: Config, nats_url: str, nats_prefix: str) -> Config:
    bus = BusConfig(nats_url=nats_url, subject_prefix=nats_prefix)
    return replace(config, bus=bus, echo_delay_ms=1, echo_chunk_chars=4, delta_interval_ms=10)


@pytest.fixture
async def other_replica(config: Config) -> AsyncIterator[NatsBus]:
    bus = await NatsBus.connect(config.bus.nats_url, config.bus.subject_prefix, name="other")
    try:
        yield bus
    finally:
        await bus.close()


async def durable_events(subscription: Subscription, until_final: bool) -> list[Event]:
    events: list[Event] = []
    while not (until_final and events and isinstance(events[-1].body, Final)):
        message = await subscription.get(5)
        assert message is not None, f"nothing more after {events}"
        if isinstance(message, Event):
            events.append(message)
    return events


async def test_watch_chat_and_watch_sessions_on_the_nats_bus(
    server: ServerHandle, sessions: Sessions, chat: Chat, other_replica: NatsBus
) -> None:
    assert server.running is not None
    assert isinstance(server.running.bus, NatsBus)
    elsewhere = other_replica.subscribe(chat_topic(KEY))
    await elsewhere.ready()
    await create_session(sessions, key="nats")
    watch_chat = chat.WatchChat(cpb.WatchChatRequest(session_key=KEY))
    watch_sessions = sessions.WatchSessions(spb.WatchSessionsRequest(keys=[KEY]))
    async with StreamReader(watch_chat) as chat_reader, StreamReader(watch_sessions) as feed:
        created = await feed.next()
        assert created.event.reason == events_pb2.SESSION_EVENT_REASON_CREATE
        sent = await chat.Send(cpb.SendRequest(session_key=KEY, text=TEXT))
        items = await chat_reader.read_until(lambda r: body_of(r.event) == "final")
        changes = await feed.read_until(
            lambda r: r.event.reason == events_pb2.SESSION_EVENT_REASON_RUN_END
        )
    texts: dict[str, str] = {}
    for item in items:
        if body_of(item.event) == "delta":
            apply_delta(texts, item.event)
    assert texts[sent.run_id] == TEXT
    assert items[-1].event.final.message.text == TEXT
    durable = [i.event.cursor for i in items if body_of(i.event) not in ("delta", "heartbeat")]
    assert durable == sorted(set(durable))
    assert [c.event.session_cursor for c in changes] == sorted(
        {c.event.session_cursor for c in changes}
    )
    # What the server committed went out on NATS, in commit order.
    events = await durable_events(elsewhere, until_final=True)
    assert [e.cursor for e in events] == list(range(events[0].cursor, events[-1].cursor + 1))
    final = events[-1].body
    assert isinstance(final, Final)
    assert final.message is not None
    assert final.message.text == TEXT


async def test_the_feed_goes_out_on_nats(
    server: ServerHandle, sessions: Sessions, other_replica: NatsBus
) -> None:
    feed = other_replica.subscribe(FEED_TOPIC)
    await feed.ready()
    for name in ("f1", "f2", "f3"):
        await create_session(sessions, key=name)
    events = [await feed.get(5) for _ in range(3)]
    assert [e.session_key for e in events if isinstance(e, Event)] == [
        "agent:main:f1",
        "agent:main:f2",
        "agent:main:f3",
    ]
    seqs = [e.global_seq for e in events if isinstance(e, Event)]
    assert seqs == sorted(seqs)


async def test_what_another_replica_publishes_reaches_the_servers_streams(
    server: ServerHandle, sessions: Sessions, chat: Chat, other_replica: NatsBus
) -> None:
    await create_session(sessions, key="nats")
    watch_chat = chat.WatchChat(cpb.WatchChatRequest(session_key=KEY))
    async with StreamReader(watch_chat) as reader:
        await reader.read_until(lambda r: r.event.cursor > 0)  # replayed: subscribed, ready
        # A reply in flight on the other replica: its deltas come through this server.
        for text, offset in (("from ", 0), ("elsewhere", 5)):
            await other_replica.publish(chat_topic(KEY), LiveDelta(KEY, "run-b", text, offset, 1))
        texts: dict[str, str] = {}
        while texts.get("run-b") != "from elsewhere":
            item = await reader.next()
            if body_of(item.event) == "delta":
                apply_delta(texts, item.event)


def test_the_nats_bus_is_chosen_by_env_or_toml(tmp_path: Path) -> None:
    assert config_module.load({}).bus.nats_url == ""  # in-process by default
    env = {"SESSIOND_NATS_URL": "nats://user:secret@nats-0:4222, nats://nats-1:4222"}
    loaded = config_module.load(env)
    assert loaded.bus.nats_url.startswith("nats://user:secret@nats-0:4222")
    assert "secret" not in repr(loaded)
    toml = tmp_path / "sessiond.toml"
    toml.write_text('[bus]\nnats_url = "tls://nats:4222"\nsubject_prefix = "prod.sessiond"\n')
    from_file = config_module.load({"SESSIOND_CONFIG": str(toml)})
    assert from_file.bus == BusConfig("tls://nats:4222", "prod.sessiond")
    overridden = config_module.load(
        {"SESSIOND_CONFIG": str(toml), "SESSIOND_NATS_SUBJECT_PREFIX": "staging"}
    )
    assert overridden.bus.subject_prefix == "staging"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSIOND_NATS_URL": "localhost:4222"}, "bus.nats_url must be nats://"),
        ({"SESSIOND_NATS_URL": "nats://a:4222,http://b"}, "bus.nats_url must be nats://"),
        ({"SESSIOND_NATS_SUBJECT_PREFIX": "a.*"}, "bus.subject_prefix"),
        ({"SESSIOND_NATS_SUBJECT_PREFIX": ""}, "bus.subject_prefix"),
    ],
)
def test_a_bad_nats_setting_is_reported(env: dict[str, str], message: str) -> None:
    with pytest.raises(config_module.ConfigError, match=message):
        config_module.load(env)
