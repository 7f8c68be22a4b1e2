"""WatchSessions: ordered session changes, resumable by cursor without loss or duplicates."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from google.protobuf import field_mask_pb2
from helpers import StreamReader, create_session
from sessiond.config import AgentConfig, Config
from sessiond.v1 import events_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Reader = StreamReader[spb.WatchSessionsResponse]

CREATE = events_pb2.SESSION_EVENT_REASON_CREATE
UPDATE = events_pb2.SESSION_EVENT_REASON_UPDATE
RESET = events_pb2.SESSION_EVENT_REASON_RESET
DELETE = events_pb2.SESSION_EVENT_REASON_DELETE


@pytest.fixture
def config(config: Config) -> Config:
    """Two agents: `main` (the default) and `ops`."""
    return replace(config, agents={"main": AgentConfig(), "ops": AgentConfig()})


def watch(sessions: Sessions, **fields: Any) -> Reader:
    return StreamReader(sessions.WatchSessions(spb.WatchSessionsRequest(**fields)))


def is_event(key: str, reason: int) -> Callable[[spb.WatchSessionsResponse], bool]:
    return lambda r: r.event.session_key == key and r.event.reason == reason


def ident(event: events_pb2.SessionEvent) -> tuple[int, int, str, int]:
    return event.cursor, event.session_cursor, event.session_key, event.reason


def assert_increasing(values: list[int]) -> None:
    assert all(a < b for a, b in itertools.pairwise(values)), values


async def touch(sessions: Sessions, key: str, display_name: str) -> None:
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=key,
            update=spb.SessionUpdate(display_name=display_name),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        )
    )


async def lifecycle(sessions: Sessions, key: str) -> str:
    """Create, update, reset and delete `key`; return the session id after the reset."""
    await create_session(sessions, key=key)
    await touch(sessions, key, "changed")
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key=key))
    await sessions.DeleteSession(spb.DeleteSessionRequest(key=key))
    return reset.session.session_id


def check_lifecycle(events: list[events_pb2.SessionEvent], key: str, reset_id: str) -> None:
    assert all(e.cursor > 0 for e in events)
    assert_increasing([e.cursor for e in events])
    mine = [e for e in events if e.session_key == key]
    assert [e.reason for e in mine] == [CREATE, UPDATE, RESET, DELETE]
    assert_increasing([e.session_cursor for e in mine])
    assert all(e.session.key == key for e in mine)
    assert all(e.ts.seconds > 0 for e in mine)
    assert mine[1].session.display_name == "changed"
    assert mine[2].session.session_id == reset_id
    assert mine[3].session.session_id == reset_id


async def test_replay_sees_lifecycle_in_order(sessions: Sessions) -> None:
    key = "agent:main:w"
    reset_id = await lifecycle(sessions, "w")
    async with watch(sessions) as reader:
        items = await reader.read_until(is_event(key, DELETE))
    check_lifecycle([r.event for r in items], key, reset_id)


async def test_live_sees_lifecycle_in_order(sessions: Sessions) -> None:
    key = "agent:main:w"
    async with watch(sessions, after_cursor=0) as reader:
        reset_id = await lifecycle(sessions, "w")
        items = await reader.read_until(is_event(key, DELETE))
    check_lifecycle([r.event for r in items], key, reset_id)


async def test_resume_after_cursor_without_loss_or_duplicates(sessions: Sessions) -> None:
    key = "agent:main:r"
    await create_session(sessions, key="r")
    await touch(sessions, "r", "1")
    await touch(sessions, "r", "2")
    async with watch(sessions) as first:
        seen = [r.event for r in await first.read_n(2)]
    # The first client is gone; changes go on while it is away.
    await touch(sessions, "r", "3")
    await sessions.ResetSession(spb.ResetSessionRequest(key="r"))
    await sessions.DeleteSession(spb.DeleteSessionRequest(key="r"))

    async with watch(sessions, after_cursor=seen[-1].cursor) as resumed:
        missed = [r.event for r in await resumed.read_until(is_event(key, DELETE))]
        await create_session(sessions, key="r2")
        live = [r.event for r in await resumed.read_until(is_event("agent:main:r2", CREATE))]
    async with watch(sessions) as full:
        everything = [r.event for r in await full.read_until(is_event(key, DELETE))]

    assert [ident(e) for e in everything[:2]] == [ident(e) for e in seen]
    assert [ident(e) for e in missed] == [ident(e) for e in everything[2:]]
    assert [e.reason for e in everything if e.session_key == key] == [
        CREATE,
        UPDATE,
        UPDATE,
        UPDATE,
        RESET,
        DELETE,
    ]
    assert [ident(e)[2:] for e in live] == [("agent:main:r2", CREATE)]
    assert live[0].cursor > missed[-1].cursor


async def test_start_at_end_streams_only_new_events(sessions: Sessions) -> None:
    await create_session(sessions, key="old")
    await touch(sessions, "old", "before")
    await create_session(sessions, key="probe")
    async with watch(sessions) as history:
        before = await history.read_until(is_event("agent:main:probe", CREATE))
    head = before[-1].event.cursor

    async with watch(sessions, start_at_end=True) as reader:
        # Its response headers say it is live: nothing before, everything after.
        await reader.live()
        await touch(sessions, "old", "after")
        await create_session(sessions, key="new")
        items = await reader.read_until(is_event("agent:main:new", CREATE))
    events = [r.event for r in items]
    assert all(e.cursor > head for e in events), (head, [e.cursor for e in events])
    assert_increasing([e.cursor for e in events])
    assert [(e.session_key, e.reason) for e in events] == [
        ("agent:main:old", UPDATE),
        ("agent:main:new", CREATE),
    ]
    assert events[0].session.display_name == "after"


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (["agent:main:a"], {"agent:main:a": [CREATE, UPDATE, RESET]}),
        (["A"], {"agent:main:a": [CREATE, UPDATE, RESET]}),
        (
            ["agent:main:a", "agent:main:c"],
            {"agent:main:a": [CREATE, UPDATE, RESET], "agent:main:c": [CREATE, RESET]},
        ),
    ],
)
async def test_keys_filter(
    sessions: Sessions, keys: list[str], expected: dict[str, list[int]]
) -> None:
    async with watch(sessions, keys=keys) as reader:
        await create_session(sessions, key="a")
        await create_session(sessions, key="b")
        await create_session(sessions, key="c")
        await touch(sessions, "b", "b1")
        await sessions.ResetSession(spb.ResetSessionRequest(key="c"))
        await touch(sessions, "a", "a1")
        await sessions.DeleteSession(spb.DeleteSessionRequest(key="b"))
        await sessions.ResetSession(spb.ResetSessionRequest(key="a"))
        items = await reader.read_until(is_event("agent:main:a", RESET))
    events = [r.event for r in items]
    assert {e.session_key for e in events} == set(expected)
    for key, reasons in expected.items():
        assert [e.reason for e in events if e.session_key == key] == reasons, key
    assert_increasing([e.cursor for e in events])


async def test_agent_filter(sessions: Sessions) -> None:
    async with watch(sessions, agent_id="ops") as reader:
        await create_session(sessions, key="m1")
        await create_session(sessions, key="o1", agent_id="ops")
        await touch(sessions, "m1", "x")
        await touch(sessions, "agent:ops:o1", "y")
        items = await reader.read_until(is_event("agent:ops:o1", UPDATE))
    events = [r.event for r in items]
    assert [(e.session_key, e.reason) for e in events] == [
        ("agent:ops:o1", CREATE),
        ("agent:ops:o1", UPDATE),
    ]
    assert all(e.session.agent_id == "ops" for e in events)


async def test_session_cursor_continues_across_recreate(sessions: Sessions) -> None:
    key = "agent:main:again"
    await create_session(sessions, key="again")
    await sessions.DeleteSession(spb.DeleteSessionRequest(key="again"))
    await create_session(sessions, key="again")
    async with watch(sessions, keys=[key]) as reader:
        items = await reader.read_n(3)
    events = [r.event for r in items]
    assert [e.reason for e in events] == [CREATE, DELETE, CREATE]
    assert_increasing([e.session_cursor for e in events])
