"""SessionService RPCs against a real server: success paths and every documented error."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from helpers import (
    create_session,
    expect_error,
    field_violations,
    gather_in_batches,
    has_violation,
    inject,
    ts_key,
)
from sessiond.config import AgentConfig, Config
from sessiond.v1 import (
    chat_service_pb2,
    chat_service_pb2_grpc,
    resources_pb2,
    session_service_pb2_grpc,
)
from sessiond.v1 import session_service_pb2 as spb

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode

UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
UPDATE_PATHS = [
    "label",
    "display_name",
    "model",
    "thinking_level",
    "verbose_level",
    "reasoning_level",
    "send_policy",
    "queue_mode",
    "metadata",
]
FULL_UPDATE = spb.SessionUpdate(
    label="new-label",
    display_name="New name",
    model="model-x",
    thinking_level="high",
    verbose_level="full",
    reasoning_level="stream",
    send_policy=resources_pb2.SEND_POLICY_DENY,
    queue_mode=resources_pb2.QUEUE_MODE_REJECT,
    metadata={"k": "v"},
)


@pytest.fixture
def config(config: Config) -> Config:
    """Two agents: `main` (the default) and `ops`."""
    return replace(config, agents={"main": AgentConfig(), "ops": AgentConfig()})


def field(session: resources_pb2.Session | spb.SessionUpdate, name: str) -> Any:
    value = getattr(session, name)
    return dict(value) if name == "metadata" else value


async def get(sessions: Sessions, key: str) -> resources_pb2.Session:
    return (await sessions.GetSession(spb.GetSessionRequest(key=key))).session


async def update(
    sessions: Sessions,
    key: str,
    paths: list[str] | None = None,
    etag: str = "",
    **values: Any,
) -> resources_pb2.Session:
    request = spb.UpdateSessionRequest(
        key=key,
        update=spb.SessionUpdate(**values),
        update_mask=field_mask_pb2.FieldMask(paths=paths or []),
        etag=etag,
    )
    return (await sessions.UpdateSession(request)).session


async def list_keys(sessions: Sessions, **filters: Any) -> list[str]:
    response = await sessions.ListSessions(spb.ListSessionsRequest(page_size=500, **filters))
    assert not response.next_page_token
    return [s.key for s in response.sessions]


# --- CreateSession ---------------------------------------------------------------------


async def test_create_without_key_makes_dashboard_key(sessions: Sessions) -> None:
    response = await sessions.CreateSession(spb.CreateSessionRequest())
    assert response.created
    session = response.session
    assert re.fullmatch(f"agent:main:dashboard:{UUID}", session.key), session.key
    assert session.agent_id == "main"
    assert session.session_id
    assert session.etag
    assert session.message_count == 0
    assert session.status == resources_pb2.SESSION_STATUS_IDLE
    assert not session.has_active_run
    assert session.created_at.seconds > 0
    assert ts_key(session.updated_at) >= ts_key(session.created_at)
    other = await create_session(sessions)
    assert other.key != session.key
    assert other.session_id != session.session_id
    got = await get(sessions, session.key)
    assert (got.key, got.session_id, got.etag) == (session.key, session.session_id, session.etag)


async def test_create_with_key_and_settings(sessions: Sessions) -> None:
    response = await sessions.CreateSession(
        spb.CreateSessionRequest(
            key="work",
            label="Work",
            model="model-a",
            display_name="Work chat",
            metadata={"team": "blue"},
        )
    )
    assert response.created
    assert not response.run_id
    session = response.session
    assert session.key == "agent:main:work"
    assert session.agent_id == "main"
    assert session.label == "Work"
    assert session.model == "model-a"
    assert session.display_name == "Work chat"
    assert dict(session.metadata) == {"team": "blue"}
    got = await get(sessions, "agent:main:work")
    assert got.label == "Work"
    assert got.session_id == session.session_id


async def test_create_existing_key_returns_it_unchanged(sessions: Sessions) -> None:
    first = await create_session(
        sessions, key="dup", label="one", model="model-a", metadata={"x": "1"}
    )
    response = await sessions.CreateSession(
        spb.CreateSessionRequest(
            key="DUP",
            label="two",
            model="model-b",
            display_name="changed",
            metadata={"y": "2"},
        )
    )
    assert not response.created
    again = response.session
    for name in ("key", "session_id", "label", "model", "display_name", "metadata", "etag"):
        assert field(again, name) == field(first, name), name
    assert ts_key(again.updated_at) == ts_key(first.updated_at)
    got = await get(sessions, "dup")
    assert (got.label, got.model, got.etag) == ("one", "model-a", first.etag)
    assert dict(got.metadata) == {"x": "1"}


async def test_create_with_parent(sessions: Sessions) -> None:
    await create_session(sessions, key="p1")
    child = await create_session(sessions, key="c1", parent_session_key="P1")
    assert child.parent_session_key == "agent:main:p1"


async def test_create_with_unknown_parent_is_not_found(sessions: Sessions) -> None:
    await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="c1", parent_session_key="ghost")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )
    await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key="c1")), Code.NOT_FOUND, "SESSION_NOT_FOUND"
    )


async def test_create_with_unknown_agent(sessions: Sessions) -> None:
    await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="x", agent_id="nobody")),
        Code.INVALID_ARGUMENT,
        "UNKNOWN_AGENT",
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("foo", "agent:ops:foo"),
        ("Foo", "agent:ops:foo"),
        ("main", "agent:ops:main"),
        ("agent:ops:bar", "agent:ops:bar"),
    ],
)
async def test_create_with_agent_id_and_bare_key(
    sessions: Sessions, key: str, expected: str
) -> None:
    response = await sessions.CreateSession(spb.CreateSessionRequest(key=key, agent_id="ops"))
    assert response.created
    assert response.session.key == expected
    assert response.session.agent_id == "ops"
    assert (await get(sessions, expected)).agent_id == "ops"


async def test_create_with_agent_id_and_no_key(sessions: Sessions) -> None:
    session = await create_session(sessions, agent_id="ops")
    assert re.fullmatch(f"agent:ops:dashboard:{UUID}", session.key), session.key
    assert session.agent_id == "ops"


async def test_create_key_of_other_agent_derives_agent(sessions: Sessions) -> None:
    session = await create_session(sessions, key="agent:ops:derived")
    assert session.agent_id == "ops"


async def test_create_key_of_other_agent_than_agent_id(sessions: Sessions) -> None:
    await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="agent:main:x", agent_id="ops")),
        Code.INVALID_ARGUMENT,
    )


async def test_create_label_too_long(sessions: Sessions) -> None:
    err = await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="x", label="l" * 513)),
        Code.INVALID_ARGUMENT,
    )
    assert "label" in field_violations(err), field_violations(err)


async def test_create_model_too_long(sessions: Sessions) -> None:
    err = await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="x", model="m" * 257)),
        Code.INVALID_ARGUMENT,
    )
    assert "model" in field_violations(err), field_violations(err)
    assert (await create_session(sessions, key="y", model="m" * 256)).model == "m" * 256


# --- GetSession ------------------------------------------------------------------------


async def test_get_missing(sessions: Sessions) -> None:
    await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key="nothing-here")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


@pytest.mark.parametrize("key", ["", "   ", "\t\n"])
async def test_get_blank_key(sessions: Sessions, key: str) -> None:
    err = await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key=key)), Code.INVALID_ARGUMENT
    )
    assert "key required" in (err.details() or "")


# --- ListSessions ----------------------------------------------------------------------


async def test_list_sessions_newest_first(sessions: Sessions) -> None:
    for key in ("a", "b", "c"):
        await create_session(sessions, key=key)
    touched = await update(sessions, "a", ["display_name"], display_name="touched")
    response = await sessions.ListSessions(spb.ListSessionsRequest())
    listed = list(response.sessions)
    stamps = [ts_key(s.updated_at) for s in listed]
    assert stamps == sorted(stamps, reverse=True)
    keys = [s.key for s in listed]
    assert {"agent:main:a", "agent:main:b", "agent:main:c"} <= set(keys)
    c = next(s for s in listed if s.key == "agent:main:c")
    assert ts_key(touched.updated_at) >= ts_key(c.updated_at)
    if ts_key(touched.updated_at) > ts_key(c.updated_at):
        assert keys.index("agent:main:a") < keys.index("agent:main:c")
    assert all(not s.has_active_run for s in listed)


async def test_list_sessions_filters(sessions: Sessions) -> None:
    await create_session(sessions, key="m-alpha", label="Alpha Project")
    await create_session(sessions, key="m-beta", label="beta project")
    await create_session(sessions, key="m-gamma", label="gamma")
    await create_session(sessions, key="kid1", parent_session_key="agent:main:m-alpha")
    await create_session(sessions, key="kid2", parent_session_key="m-alpha")
    await create_session(sessions, key="o1", agent_id="ops", label="ops project")

    assert await list_keys(sessions, agent_id="ops") == ["agent:ops:o1"]
    main_keys = set(await list_keys(sessions, agent_id="main"))
    assert "agent:ops:o1" not in main_keys
    assert {"agent:main:m-alpha", "agent:main:kid1"} <= main_keys
    assert set(await list_keys(sessions, label_contains="PROJECT")) == {
        "agent:main:m-alpha",
        "agent:main:m-beta",
        "agent:ops:o1",
    }
    assert set(await list_keys(sessions, label_contains="project", agent_id="main")) == {
        "agent:main:m-alpha",
        "agent:main:m-beta",
    }
    assert set(await list_keys(sessions, parent_session_key="agent:main:m-alpha")) == {
        "agent:main:kid1",
        "agent:main:kid2",
    }
    assert await list_keys(sessions, active_only=True) == []


async def test_list_sessions_updated_after(sessions: Sessions) -> None:
    first = await create_session(sessions, key="first")
    later = await create_session(sessions, key="later")
    for i in range(10_000):  # until the clock has visibly moved past `first`
        if ts_key(later.updated_at) > ts_key(first.updated_at):
            break
        later = await update(sessions, "later", ["display_name"], display_name=f"n{i}")
    assert ts_key(later.updated_at) > ts_key(first.updated_at)
    response = await sessions.ListSessions(
        spb.ListSessionsRequest(updated_after=first.updated_at, page_size=500)
    )
    keys = [s.key for s in response.sessions]
    assert "agent:main:later" in keys
    assert "agent:main:first" not in keys
    assert all(ts_key(s.updated_at) > ts_key(first.updated_at) for s in response.sessions)


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(253_402_300_800, 0), (-62_135_596_801, 0), (0, -1), (0, 1_000_000_000), (2**62, 0)],
)
async def test_list_sessions_invalid_updated_after(
    sessions: Sessions, seconds: int, nanos: int
) -> None:
    """Outside google.protobuf.Timestamp's range (0001-01-01..9999-12-31, nanos 0..1e9-1):
    the client's mistake, named, not an INTERNAL error."""
    bad = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
    err = await expect_error(
        sessions.ListSessions(spb.ListSessionsRequest(updated_after=bad)), Code.INVALID_ARGUMENT
    )
    assert has_violation(err, "updated_after"), field_violations(err)


async def test_list_sessions_updated_after_at_the_timestamp_limits(sessions: Sessions) -> None:
    await create_session(sessions, key="ancient")
    for seconds, nanos, found in (
        (-62_135_596_800, 0, True),
        (253_402_300_799, 999_999_999, False),
    ):
        edge = timestamp_pb2.Timestamp(seconds=seconds, nanos=nanos)
        response = await sessions.ListSessions(spb.ListSessionsRequest(updated_after=edge))
        assert ("agent:main:ancient" in [s.key for s in response.sessions]) is found


async def test_list_sessions_page_size_default_and_clamp(sessions: Sessions) -> None:
    total = 505
    await gather_in_batches(
        [lambda i=i: create_session(sessions, key=f"bulk-{i}") for i in range(total)]
    )
    default = await sessions.ListSessions(spb.ListSessionsRequest())
    assert len(default.sessions) == 50
    assert default.next_page_token
    big = await sessions.ListSessions(spb.ListSessionsRequest(page_size=100_000))
    assert len(big.sessions) == 500
    assert big.next_page_token
    rest = await sessions.ListSessions(
        spb.ListSessionsRequest(page_size=500, page_token=big.next_page_token)
    )
    keys = [s.key for s in big.sessions] + [s.key for s in rest.sessions]
    assert len(keys) == len(set(keys))
    assert {f"agent:main:bulk-{i}" for i in range(total)} <= set(keys)
    assert not rest.next_page_token


async def test_list_sessions_negative_page_size(sessions: Sessions) -> None:
    await expect_error(
        sessions.ListSessions(spb.ListSessionsRequest(page_size=-1)), Code.INVALID_ARGUMENT
    )


@pytest.mark.parametrize("token", ["not-a-token", "!!!", "\u00e9" * 40])
async def test_list_sessions_bad_page_token(sessions: Sessions, token: str) -> None:
    await create_session(sessions, key="one")
    await expect_error(
        sessions.ListSessions(spb.ListSessionsRequest(page_token=token)), Code.INVALID_ARGUMENT
    )


# --- ResolveSession --------------------------------------------------------------------


async def test_resolve_by_key(sessions: Sessions) -> None:
    created = await create_session(sessions, key="findme")
    response = await sessions.ResolveSession(spb.ResolveSessionRequest(key="  FindMe "))
    assert response.key == "agent:main:findme"
    assert response.session.session_id == created.session_id


async def test_resolve_by_session_id_current_and_archived(sessions: Sessions) -> None:
    created = await create_session(sessions, key="byid")
    response = await sessions.ResolveSession(
        spb.ResolveSessionRequest(session_id=created.session_id)
    )
    assert response.key == "agent:main:byid"
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key="byid"))
    assert reset.previous_session_id == created.session_id
    old = await sessions.ResolveSession(spb.ResolveSessionRequest(session_id=created.session_id))
    assert old.key == "agent:main:byid"
    new = await sessions.ResolveSession(
        spb.ResolveSessionRequest(session_id=reset.session.session_id)
    )
    assert new.key == "agent:main:byid"


async def test_resolve_by_label(sessions: Sessions) -> None:
    await create_session(sessions, key="labelled", label="My Label")
    response = await sessions.ResolveSession(spb.ResolveSessionRequest(label="My Label"))
    assert response.key == "agent:main:labelled"


async def test_resolve_label_ambiguous_across_agents(sessions: Sessions) -> None:
    await create_session(sessions, key="s1", label="shared")
    await create_session(sessions, key="s2", agent_id="ops", label="shared")
    await expect_error(
        sessions.ResolveSession(spb.ResolveSessionRequest(label="shared")),
        Code.FAILED_PRECONDITION,
        "LABEL_AMBIGUOUS",
    )
    ops = await sessions.ResolveSession(spb.ResolveSessionRequest(label="shared", agent_id="ops"))
    assert ops.key == "agent:ops:s2"
    main = await sessions.ResolveSession(spb.ResolveSessionRequest(label="shared", agent_id="main"))
    assert main.key == "agent:main:s1"


@pytest.mark.parametrize(
    "request_fields",
    [{"key": "ghost"}, {"session_id": "no-such-id"}, {"label": "no such label"}],
)
async def test_resolve_not_found(sessions: Sessions, request_fields: dict[str, str]) -> None:
    await create_session(sessions, key="present", label="present")
    await expect_error(
        sessions.ResolveSession(spb.ResolveSessionRequest(**request_fields)),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


async def test_resolve_needs_exactly_one_selector(sessions: Sessions) -> None:
    await create_session(sessions, key="present", label="present")
    await expect_error(sessions.ResolveSession(spb.ResolveSessionRequest()), Code.INVALID_ARGUMENT)
    await expect_error(
        sessions.ResolveSession(spb.ResolveSessionRequest(agent_id="main")),
        Code.INVALID_ARGUMENT,
    )
    await expect_error(
        sessions.ResolveSession(spb.ResolveSessionRequest(key="present", label="present")),
        Code.INVALID_ARGUMENT,
    )


# --- UpdateSession ---------------------------------------------------------------------


@pytest.mark.parametrize("path", UPDATE_PATHS)
async def test_update_mask_applies_only_listed_field(sessions: Sessions, path: str) -> None:
    before = await create_session(
        sessions, key="upd", label="old-label", model="model-a", metadata={"old": "1"}
    )
    after = await update(
        sessions,
        "upd",
        [path],
        **{name: field(FULL_UPDATE, name) for name in UPDATE_PATHS},
    )
    for name in UPDATE_PATHS:
        expected = field(FULL_UPDATE if name == path else before, name)
        assert field(after, name) == expected, name
    got = await get(sessions, "upd")
    assert field(got, path) == field(FULL_UPDATE, path)
    assert got.etag == after.etag


async def test_update_empty_mask_applies_set_fields(sessions: Sessions) -> None:
    await create_session(
        sessions, key="upd", label="keep-me", model="model-a", metadata={"old": "1"}
    )
    after = await update(sessions, "upd", display_name="Shown", thinking_level="low")
    assert after.display_name == "Shown"
    assert after.thinking_level == "low"
    assert after.label == "keep-me"
    assert after.model == "model-a"
    assert dict(after.metadata) == {"old": "1"}
    full = await update(
        sessions, "upd", **{name: field(FULL_UPDATE, name) for name in UPDATE_PATHS}
    )
    for name in UPDATE_PATHS:
        assert field(full, name) == field(FULL_UPDATE, name), name


async def test_update_mask_clears_fields(sessions: Sessions) -> None:
    await create_session(sessions, key="upd", label="gone", model="model-a")
    await update(sessions, "upd", ["thinking_level"], thinking_level="high")
    after = await update(sessions, "upd", ["label", "model", "thinking_level"])
    assert (after.label, after.model, after.thinking_level) == ("", "", "")
    reuse = await create_session(sessions, key="other", label="gone")
    assert reuse.label == "gone"


async def test_update_metadata_replaces_map(sessions: Sessions) -> None:
    await create_session(sessions, key="upd", metadata={"a": "1", "b": "2"})
    after = await update(sessions, "upd", ["metadata"], metadata={"c": "3"})
    assert dict(after.metadata) == {"c": "3"}


@pytest.mark.parametrize("path", ["nope", "session_id", "etag", "label.inner"])
async def test_update_bad_mask_path(sessions: Sessions, path: str) -> None:
    before = await create_session(sessions, key="upd")
    await expect_error(
        sessions.UpdateSession(
            spb.UpdateSessionRequest(
                key="upd",
                update=spb.SessionUpdate(label="x"),
                update_mask=field_mask_pb2.FieldMask(paths=[path]),
            )
        ),
        Code.INVALID_ARGUMENT,
    )
    assert (await get(sessions, "upd")).etag == before.etag


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("thinking_level", "huge"),
        ("verbose_level", "loud"),
        ("reasoning_level", "deep"),
        ("model", "m" * 257),
        ("label", "l" * 513),
    ],
)
async def test_update_invalid_value(sessions: Sessions, name: str, value: str) -> None:
    before = await create_session(sessions, key="upd")
    err = await expect_error(
        sessions.UpdateSession(
            spb.UpdateSessionRequest(
                key="upd",
                update=spb.SessionUpdate(**{name: value}),
                update_mask=field_mask_pb2.FieldMask(paths=[name]),
            )
        ),
        Code.INVALID_ARGUMENT,
    )
    assert has_violation(err, name), field_violations(err)
    assert (await get(sessions, "upd")).etag == before.etag


async def test_update_accepts_every_documented_level(sessions: Sessions) -> None:
    await create_session(sessions, key="upd")
    levels = {
        "thinking_level": ["off", "minimal", "low", "medium", "high", "xhigh", "adaptive"],
        "verbose_level": ["off", "on", "full"],
        "reasoning_level": ["off", "on", "stream"],
    }
    for name, values in levels.items():
        for value in values:
            after = await update(sessions, "upd", [name], **{name: value})
            assert getattr(after, name) == value


async def test_update_etag(sessions: Sessions) -> None:
    created = await create_session(sessions, key="upd")
    first = await update(sessions, "upd", ["display_name"], etag=created.etag, display_name="1")
    assert first.etag
    assert first.etag != created.etag
    await expect_error(
        sessions.UpdateSession(
            spb.UpdateSessionRequest(
                key="upd",
                update=spb.SessionUpdate(display_name="stale"),
                update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
                etag=created.etag,
            )
        ),
        Code.ABORTED,
        "ETAG_MISMATCH",
    )
    assert (await get(sessions, "upd")).display_name == "1"
    second = await update(sessions, "upd", ["display_name"], etag=first.etag, display_name="2")
    third = await update(sessions, "upd", ["display_name"], display_name="3")
    assert len({created.etag, first.etag, second.etag, third.etag}) == 4
    assert (await get(sessions, "upd")).etag == third.etag


async def test_update_label_in_use(sessions: Sessions) -> None:
    await create_session(sessions, key="a", label="taken")
    await create_session(sessions, key="b")
    await expect_error(
        sessions.UpdateSession(
            spb.UpdateSessionRequest(key="b", update=spb.SessionUpdate(label="taken"))
        ),
        Code.ALREADY_EXISTS,
        "LABEL_IN_USE",
    )
    assert (await get(sessions, "b")).label == ""
    assert (await get(sessions, "a")).label == "taken"
    same = await update(sessions, "a", ["label"], label="taken")
    assert same.label == "taken"
    other_agent = await create_session(sessions, key="c", agent_id="ops")
    moved = await update(sessions, other_agent.key, ["label"], label="taken")
    assert moved.label == "taken"


async def test_update_label_clash_leaves_other_session_intact(sessions: Sessions) -> None:
    holder = await create_session(sessions, key="holder", label="Mine", model="model-a")
    await create_session(sessions, key="claimer")
    with contextlib.suppress(grpc.aio.AioRpcError):
        await update(sessions, "claimer", ["label"], label="Mine")
    got = await get(sessions, "holder")
    assert (got.label, got.model, got.session_id) == ("Mine", "model-a", holder.session_id)
    assert "agent:main:holder" in await list_keys(sessions)


async def test_update_missing(sessions: Sessions) -> None:
    await expect_error(
        sessions.UpdateSession(
            spb.UpdateSessionRequest(key="ghost", update=spb.SessionUpdate(label="x"))
        ),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


# --- ResetSession ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        spb.RESET_REASON_UNSPECIFIED,
        spb.RESET_REASON_NEW,
        spb.RESET_REASON_RESET,
    ],
)
async def test_reset_session(sessions: Sessions, chat: Chat, reason: int) -> None:
    created = await create_session(sessions, key="rs", label="Keep", model="model-a")
    await inject(chat, "rs", 3)
    assert (await get(sessions, "rs")).message_count == 3
    await update(
        sessions,
        "rs",
        ["thinking_level", "send_policy", "verbose_level"],
        thinking_level="high",
        send_policy=resources_pb2.SEND_POLICY_DENY,
        verbose_level="full",
    )
    response = await sessions.ResetSession(spb.ResetSessionRequest(key="RS", reason=reason))
    session = response.session
    assert session.key == "agent:main:rs"
    assert response.previous_session_id == created.session_id
    assert session.session_id
    assert session.session_id != created.session_id
    assert session.message_count == 0
    assert session.usage.total_tokens == 0
    assert (session.label, session.model, session.thinking_level) == ("Keep", "model-a", "high")
    assert session.send_policy == resources_pb2.SEND_POLICY_DENY
    assert session.verbose_level == "full"
    assert ts_key(session.created_at) == ts_key(created.created_at)

    old = await sessions.ListMessages(
        spb.ListMessagesRequest(session_id=response.previous_session_id)
    )
    assert old.archived
    assert old.session_id == created.session_id
    assert [m.text for m in old.messages] == ["m1", "m2", "m3"]
    current = await sessions.ListMessages(spb.ListMessagesRequest(key="rs"))
    assert not current.archived
    assert current.session_id == session.session_id
    assert list(current.messages) == []
    assert (await get(sessions, "rs")).session_id == session.session_id


async def test_reset_missing(sessions: Sessions) -> None:
    await expect_error(
        sessions.ResetSession(spb.ResetSessionRequest(key="ghost")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


# --- DeleteSession ---------------------------------------------------------------------


async def test_delete_session(sessions: Sessions, chat: Chat) -> None:
    created = await create_session(sessions, key="del")
    await inject(chat, "del", 2)
    response = await sessions.DeleteSession(spb.DeleteSessionRequest(key="Del"))
    assert response.deleted
    assert response.key == "agent:main:del"
    assert response.archived_session_id == created.session_id
    await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key="del")), Code.NOT_FOUND, "SESSION_NOT_FOUND"
    )
    transcript = await sessions.ListMessages(
        spb.ListMessagesRequest(session_id=response.archived_session_id)
    )
    assert transcript.archived
    assert [m.text for m in transcript.messages] == ["m1", "m2"]
    assert "agent:main:del" not in await list_keys(sessions)


async def test_delete_keeping_transcript_live(sessions: Sessions, chat: Chat) -> None:
    created = await create_session(sessions, key="del")
    await inject(chat, "del", 2)
    response = await sessions.DeleteSession(
        spb.DeleteSessionRequest(key="del", delete_transcript=False)
    )
    assert response.deleted
    transcript = await sessions.ListMessages(spb.ListMessagesRequest(session_id=created.session_id))
    assert [m.text for m in transcript.messages] == ["m1", "m2"]


@pytest.mark.parametrize("key", ["main", "agent:main:main", " MAIN "])
async def test_delete_main_session_protected(sessions: Sessions, key: str) -> None:
    await sessions.CreateSession(spb.CreateSessionRequest(key="main"))
    await expect_error(
        sessions.DeleteSession(spb.DeleteSessionRequest(key=key)),
        Code.FAILED_PRECONDITION,
        "MAIN_SESSION_PROTECTED",
    )
    assert (await get(sessions, "main")).key == "agent:main:main"


async def test_delete_missing(sessions: Sessions) -> None:
    await expect_error(
        sessions.DeleteSession(spb.DeleteSessionRequest(key="ghost")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )
    response = await sessions.DeleteSession(
        spb.DeleteSessionRequest(key="Ghost", allow_missing=True)
    )
    assert not response.deleted
    assert response.key == "agent:main:ghost"


# --- ListMessages ----------------------------------------------------------------------


async def test_list_messages_default_page_and_token(sessions: Sessions, chat: Chat) -> None:
    created = await create_session(sessions, key="lm")
    injected = await inject(chat, "lm", 250)
    assert [m.seq for m in injected] == list(range(1, 251))
    assert all(m.role == resources_pb2.ROLE_ASSISTANT for m in injected)

    newest = await sessions.ListMessages(spb.ListMessagesRequest(key="lm"))
    assert newest.session_id == created.session_id
    assert not newest.archived
    assert [m.seq for m in newest.messages] == list(range(51, 251))
    assert [m.text for m in newest.messages] == [f"m{i}" for i in range(51, 251)]
    assert all(m.session_id == created.session_id for m in newest.messages)
    assert newest.next_page_token
    older = await sessions.ListMessages(
        spb.ListMessagesRequest(key="lm", page_token=newest.next_page_token)
    )
    assert [m.seq for m in older.messages] == list(range(1, 51))
    assert not older.next_page_token

    by_id = await sessions.ListMessages(
        spb.ListMessagesRequest(session_id=created.session_id, page_size=5)
    )
    assert [m.seq for m in by_id.messages] == [246, 247, 248, 249, 250]


async def test_list_messages_before_seq_pages_backwards(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="lm")
    await inject(chat, "lm", 150)
    pages: list[list[int]] = []
    request = spb.ListMessagesRequest(key="lm", before_seq=100, page_size=40)
    while True:
        response = await sessions.ListMessages(request)
        seqs = [m.seq for m in response.messages]
        assert seqs == sorted(seqs)
        pages.append(seqs)
        if not response.next_page_token:
            break
        assert len(pages) < 10
        request = spb.ListMessagesRequest(
            key="lm", page_size=40, page_token=response.next_page_token
        )
    assert pages == [list(range(60, 100)), list(range(20, 60)), list(range(1, 20))]


async def test_list_messages_after_seq_pages_forwards(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="lm")
    await inject(chat, "lm", 250)
    pages: list[list[int]] = []
    request = spb.ListMessagesRequest(key="lm", after_seq=100, page_size=40)
    while True:
        response = await sessions.ListMessages(request)
        pages.append([m.seq for m in response.messages])
        if not response.next_page_token:
            break
        assert len(pages) < 10
        request = spb.ListMessagesRequest(
            key="lm", page_size=40, page_token=response.next_page_token
        )
    assert pages == [
        list(range(101, 141)),
        list(range(141, 181)),
        list(range(181, 221)),
        list(range(221, 251)),
    ]


async def test_list_messages_page_size_max(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="lm")
    await gather_in_batches(
        [lambda: inject(chat, "lm", 1) for _ in range(1005)],
        batch=100,
    )
    response = await sessions.ListMessages(spb.ListMessagesRequest(key="lm", page_size=5000))
    assert [m.seq for m in response.messages] == list(range(6, 1006))
    assert response.next_page_token


async def test_list_messages_unknown(sessions: Sessions) -> None:
    await expect_error(
        sessions.ListMessages(spb.ListMessagesRequest(session_id="no-such-transcript")),
        Code.NOT_FOUND,
    )
    await expect_error(
        sessions.ListMessages(spb.ListMessagesRequest(key="ghost")),
        Code.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )


# --- PreviewSessions -------------------------------------------------------------------


async def test_preview_statuses_in_request_order(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="full")
    await create_session(sessions, key="empty")
    await inject(chat, "full", 2)
    response = await sessions.PreviewSessions(
        spb.PreviewSessionsRequest(keys=["Full", "empty", "missing"])
    )
    previews = list(response.previews)
    assert [p.key for p in previews] == [
        "agent:main:full",
        "agent:main:empty",
        "agent:main:missing",
    ]
    assert [p.status for p in previews] == [
        spb.PREVIEW_STATUS_OK,
        spb.PREVIEW_STATUS_EMPTY,
        spb.PREVIEW_STATUS_MISSING,
    ]
    assert [(i.seq, i.text, i.role) for i in previews[0].items] == [
        (1, "m1", resources_pb2.ROLE_ASSISTANT),
        (2, "m2", resources_pb2.ROLE_ASSISTANT),
    ]
    assert list(previews[1].items) == []
    assert list(previews[2].items) == []


async def test_preview_limit(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="long")
    await inject(chat, "long", 20)
    default = await sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=["long"]))
    assert [i.seq for i in default.previews[0].items] == list(range(9, 21))
    three = await sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=["long"], limit=3))
    assert [i.text for i in three.previews[0].items] == ["m18", "m19", "m20"]


async def test_preview_max_chars(sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="wide")
    text = "".join(chr(ord("a") + i % 26) for i in range(400))
    await chat.InjectMessage(chat_service_pb2.InjectMessageRequest(session_key="wide", text=text))

    async def preview_text(max_chars: int) -> str:
        response = await sessions.PreviewSessions(
            spb.PreviewSessionsRequest(keys=["wide"], max_chars=max_chars)
        )
        return response.previews[0].items[0].text

    def assert_cut(got: str, limit: int) -> None:
        assert limit - 5 <= len(got) <= limit, (limit, len(got))
        assert text.startswith(got.rstrip("….")), got

    assert_cut(await preview_text(0), 240)
    assert_cut(await preview_text(100), 100)
    assert_cut(await preview_text(5), 20)
    assert await preview_text(1000) == text


async def test_preview_at_most_64_keys(sessions: Sessions) -> None:
    """Keys past the 64th were dropped silently before: now the request is refused."""
    keys = [f"k{i}" for i in range(64)]
    response = await sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=keys))
    assert [p.key for p in response.previews] == [f"agent:main:k{i}" for i in range(64)]
    assert all(p.status == spb.PREVIEW_STATUS_MISSING for p in response.previews)
    err = await expect_error(
        sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=[*keys, "k64"])),
        Code.INVALID_ARGUMENT,
    )
    assert field_violations(err) == ["keys"]


async def test_preview_limit_at_most_50(sessions: Sessions, chat: Chat) -> None:
    """A limit above 50 was served before; it is refused, not clamped."""
    await create_session(sessions, key="deep")
    await inject(chat, "deep", 55)
    fifty = await sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=["deep"], limit=50))
    assert [i.seq for i in fifty.previews[0].items] == list(range(6, 56))
    for limit in (51, 1000, -1):
        err = await expect_error(
            sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=["deep"], limit=limit)),
            Code.INVALID_ARGUMENT,
        )
        assert field_violations(err) == ["limit"], limit
    err = await expect_error(
        sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=["deep"], max_chars=-1)),
        Code.INVALID_ARGUMENT,
    )
    assert field_violations(err) == ["max_chars"]


async def test_preview_blank_keys_keep_their_place(sessions: Sessions) -> None:
    """One preview per requested key, in order: a blank key is an ERROR preview, not a
    dropped one that would shift every preview after it."""
    await create_session(sessions, key="here")
    response = await sessions.PreviewSessions(
        spb.PreviewSessionsRequest(keys=["  ", "here", "", "gone"])
    )
    assert [p.status for p in response.previews] == [
        spb.PREVIEW_STATUS_ERROR,
        spb.PREVIEW_STATUS_EMPTY,
        spb.PREVIEW_STATUS_ERROR,
        spb.PREVIEW_STATUS_MISSING,
    ]
    assert [p.key for p in response.previews][1::2] == ["agent:main:here", "agent:main:gone"]


# --- ListArchives ----------------------------------------------------------------------


async def test_list_archives_after_reset_and_delete(sessions: Sessions, chat: Chat) -> None:
    created = await create_session(sessions, key="arc")
    await inject(chat, "arc", 1)
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key="arc"))
    await inject(chat, "arc", 2)
    deleted = await sessions.DeleteSession(spb.DeleteSessionRequest(key="arc"))
    assert deleted.archived_session_id == reset.session.session_id

    response = await sessions.ListArchives(spb.ListArchivesRequest(key="Arc"))
    archives = list(response.archives)
    assert [(a.session_id, a.reason, a.message_count) for a in archives] == [
        (deleted.archived_session_id, "delete", 2),
        (created.session_id, "reset", 1),
    ]
    assert all(a.session_key == "agent:main:arc" for a in archives)
    assert ts_key(archives[0].archived_at) >= ts_key(archives[1].archived_at)
    assert not response.next_page_token

    everything = await sessions.ListArchives(spb.ListArchivesRequest())
    assert {a.session_id for a in archives} <= {a.session_id for a in everything.archives}
