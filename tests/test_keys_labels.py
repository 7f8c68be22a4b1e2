"""Key canonicalisation, label rules and keyset paging over many sessions."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2
from helpers import (
    create_session,
    expect_error,
    field_violations,
    gather_in_batches,
    ts_key,
)
from sessiond.config import AgentConfig, Config
from sessiond.v1 import session_service_pb2 as spb
from sessiond.v1 import session_service_pb2_grpc

Sessions = session_service_pb2_grpc.SessionServiceStub
Code = grpc.StatusCode


@pytest.fixture
def config(config: Config) -> Config:
    """Two agents: `main` (the default) and `ops`."""
    return replace(config, agents={"main": AgentConfig(), "ops": AgentConfig()})


CANONICAL = [
    ("main", "agent:main:main"),
    ("MAIN", "agent:main:main"),
    ("Foo", "agent:main:foo"),
    ("  Agent:Main:Bar ", "agent:main:bar"),
    ("agent:main:Baz", "agent:main:baz"),
    ("\tqux\n", "agent:main:qux"),
    ("global", "global"),
    (" Global ", "global"),
    ("unknown", "unknown"),
    ("agent:ops:Team", "agent:ops:team"),
]


@pytest.mark.parametrize(("raw", "canonical"), CANONICAL)
async def test_key_canonicalised_on_create_and_get(
    sessions: Sessions, raw: str, canonical: str
) -> None:
    created = await sessions.CreateSession(spb.CreateSessionRequest(key=raw))
    assert created.session.key == canonical
    by_raw = await sessions.GetSession(spb.GetSessionRequest(key=raw))
    assert by_raw.session.key == canonical
    assert by_raw.session.session_id == created.session.session_id
    by_canonical = await sessions.GetSession(spb.GetSessionRequest(key=canonical))
    assert by_canonical.session.session_id == created.session.session_id
    again = await sessions.CreateSession(spb.CreateSessionRequest(key=canonical))
    assert not again.created
    assert again.session.session_id == created.session.session_id


async def test_raw_forms_of_one_key_name_one_session(sessions: Sessions) -> None:
    first = await sessions.CreateSession(spb.CreateSessionRequest(key="Foo"))
    for form in ("foo", " FOO ", "agent:main:foo", "AGENT:MAIN:FOO"):
        again = await sessions.CreateSession(spb.CreateSessionRequest(key=form))
        assert not again.created, form
        assert again.session.session_id == first.session.session_id
    listed = await sessions.ListSessions(spb.ListSessionsRequest(page_size=500))
    assert [s.key for s in listed.sessions].count("agent:main:foo") == 1


async def test_canonical_key_in_every_response(sessions: Sessions) -> None:
    await create_session(sessions, key="Echo")
    raw = " ECHO "
    updated = await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key=raw,
            update=spb.SessionUpdate(display_name="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        )
    )
    assert updated.session.key == "agent:main:echo"
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key=raw))
    assert reset.session.key == "agent:main:echo"
    resolved = await sessions.ResolveSession(spb.ResolveSessionRequest(key=raw))
    assert resolved.key == "agent:main:echo"
    preview = await sessions.PreviewSessions(spb.PreviewSessionsRequest(keys=[raw]))
    assert preview.previews[0].key == "agent:main:echo"
    deleted = await sessions.DeleteSession(spb.DeleteSessionRequest(key=raw))
    assert deleted.key == "agent:main:echo"


def keyed_call(sessions: Sessions, rpc: str, key: str) -> Awaitable[Any]:
    """Call the keyed RPC `rpc` with `key`."""
    if rpc == "CreateSession":
        return sessions.CreateSession(spb.CreateSessionRequest(key=key))
    if rpc == "GetSession":
        return sessions.GetSession(spb.GetSessionRequest(key=key))
    if rpc == "UpdateSession":
        return sessions.UpdateSession(
            spb.UpdateSessionRequest(key=key, update=spb.SessionUpdate(display_name="x"))
        )
    if rpc == "ResetSession":
        return sessions.ResetSession(spb.ResetSessionRequest(key=key))
    assert rpc == "DeleteSession"
    return sessions.DeleteSession(spb.DeleteSessionRequest(key=key))


KEYED_RPCS = ["CreateSession", "GetSession", "UpdateSession", "ResetSession", "DeleteSession"]


BLANK_KEY_CASES = [
    (rpc, key)
    for rpc in KEYED_RPCS
    for key in ["", "   ", "\t", " \n\r "]
    # An empty key asks CreateSession for a generated dashboard key.
    if key or rpc != "CreateSession"
]


@pytest.mark.parametrize(("rpc", "key"), BLANK_KEY_CASES)
async def test_blank_key_required(sessions: Sessions, rpc: str, key: str) -> None:
    err = await expect_error(keyed_call(sessions, rpc, key), Code.INVALID_ARGUMENT)
    assert "key required" in (err.details() or ""), err.details()


async def test_label_unique_per_agent(sessions: Sessions) -> None:
    first = await create_session(sessions, key="one", label="Shared")
    await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="two", label="Shared")),
        Code.ALREADY_EXISTS,
        "LABEL_IN_USE",
    )
    await expect_error(
        sessions.GetSession(spb.GetSessionRequest(key="two")), Code.NOT_FOUND, "SESSION_NOT_FOUND"
    )
    ops = await create_session(sessions, key="two", agent_id="ops", label="Shared")
    assert ops.key == "agent:ops:two"
    assert ops.label == first.label == "Shared"
    again = await sessions.CreateSession(spb.CreateSessionRequest(key="one", label="Shared"))
    assert not again.created


async def test_label_freed_by_delete(sessions: Sessions) -> None:
    await create_session(sessions, key="one", label="Reusable")
    await sessions.DeleteSession(spb.DeleteSessionRequest(key="one"))
    second = await create_session(sessions, key="two", label="Reusable")
    assert second.label == "Reusable"


@pytest.mark.parametrize("label", ["x", "l" * 512, "\u00e4" * 512, "\U0001f600" * 512])
async def test_label_lengths_accepted(sessions: Sessions, label: str) -> None:
    created = await create_session(sessions, key="labelled", label=label)
    assert created.label == label
    got = await sessions.GetSession(spb.GetSessionRequest(key="labelled"))
    assert got.session.label == label


@pytest.mark.parametrize("label", ["l" * 513, "\u00e4" * 513])
async def test_label_too_long(sessions: Sessions, label: str) -> None:
    err = await expect_error(
        sessions.CreateSession(spb.CreateSessionRequest(key="labelled", label=label)),
        Code.INVALID_ARGUMENT,
    )
    assert "label" in field_violations(err), field_violations(err)


async def test_paging_returns_each_session_once(sessions: Sessions) -> None:
    total = 120
    created = await gather_in_batches(
        [lambda i=i: create_session(sessions, key=f"page-{i:03d}") for i in range(total)]
    )
    expected = {s.key for s in created}
    assert len(expected) == total

    seen: list[str] = []
    stamps: list[tuple[int, int]] = []
    token = ""
    for _ in range(total):  # bounded: 120 / 7 pages are needed
        response = await sessions.ListSessions(
            spb.ListSessionsRequest(page_size=7, page_token=token)
        )
        assert len(response.sessions) <= 7
        seen.extend(s.key for s in response.sessions)
        stamps.extend(ts_key(s.updated_at) for s in response.sessions)
        token = response.next_page_token
        if not token:
            break
    assert not token
    assert len(seen) == len(set(seen)), "a session was returned twice"
    assert expected <= set(seen)
    assert stamps == sorted(stamps, reverse=True)
