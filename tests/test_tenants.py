"""Tenants as key namespaces: the same public key and label in two tenants are two
sessions; keys come back public (errors included); live feeds stay within a tenant; an
operator's all_tenants token reads across tenants with keys as stored, and writes only its
own. (Every RPC × own/other tenant: test_tenant_matrix.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from conftest import ServerHandle
from helpers import StreamReader, error_info, expect_error
from sessiond.config import Config
from sessiond.core.maintenance.retention import CAP_OVERFLOW, KEEP, CleanupPolicy, plan
from sessiond.domain.models import Session
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import events_pb2 as epb
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, with_tokens


@pytest.fixture
def config(config: Config) -> Config:
    return with_tokens(config)


@pytest.fixture
async def channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


async def test_one_key_and_label_in_two_tenants_are_two_sessions(
    server: ServerHandle, channel: grpc.aio.Channel
) -> None:
    acme, beta, default = (As.of(channel, who) for who in ("acme", "beta", "default"))
    mine = await acme.create("shared", label="Same")
    theirs = await beta.create("shared", label="Same")
    plain = await default.create("shared", label="Same")
    assert mine.key == theirs.key == plain.key == "agent:main:shared"
    assert len({mine.session_id, theirs.session_id, plain.session_id}) == 3
    await acme.send_and_wait("shared", "only acme says this")
    beta_view = await beta.sessions.GetSession(spb.GetSessionRequest(key="shared"))
    assert beta_view.session.message_count == 0
    resolved = await beta.sessions.ResolveSession(spb.ResolveSessionRequest(label="Same"))
    assert resolved.session.session_id == theirs.session_id
    # Stored under each tenant's namespace; the default tenant's as before tenants.
    assert server.running is not None
    store = server.running.store
    assert (await store.session("tenant:acme:agent:main:shared")).session_id == mine.session_id  # type: ignore[union-attr]
    assert (await store.session("agent:main:shared")).session_id == plain.session_id  # type: ignore[union-attr]


async def test_errors_name_public_keys(channel: grpc.aio.Channel) -> None:
    acme = As.of(channel, "acme")
    err = await expect_error(
        acme.sessions.GetSession(spb.GetSessionRequest(key="missing")),
        grpc.StatusCode.NOT_FOUND,
        "SESSION_NOT_FOUND",
    )
    assert err.details() == "session not found: agent:main:missing"
    assert error_info(err)[1]["key"] == "agent:main:missing"
    await acme.create("main")
    err = await expect_error(
        acme.sessions.DeleteSession(spb.DeleteSessionRequest(key="main")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "MAIN_SESSION_PROTECTED",
    )
    assert "tenant:" not in f"{err.details()} {error_info(err)}"


async def test_watch_chat_and_watch_sessions_stay_within_a_tenant(
    channel: grpc.aio.Channel,
) -> None:
    acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
    await acme.create("shared")
    await beta.create("shared")
    chat = beta.chat.WatchChat(cpb.WatchChatRequest(session_key="shared", start_at_end=True))
    feed = beta.sessions.WatchSessions(spb.WatchSessionsRequest(start_at_end=True))
    async with StreamReader(chat) as chat_events, StreamReader(feed) as feed_events:
        await chat_events.live()
        await feed_events.live()
        acme_run = await acme.send_and_wait("shared", "acme's secret")
        beta_run = await beta.send_and_wait("shared", "beta's own")
        seen = await chat_events.read_until(lambda r: r.event.HasField("final"))
        changes = await feed_events.read_until(
            lambda r: r.event.reason == epb.SESSION_EVENT_REASON_RUN_END
        )
    assert {r.event.run_id for r in seen if r.event.run_id} == {beta_run.run_id}
    assert acme_run.run_id not in {r.event.run_id for r in changes}
    assert all(r.event.session_key == "agent:main:shared" for r in changes)


async def test_an_all_tenants_operator_reads_across_tenants_with_stored_keys(
    channel: grpc.aio.Channel,
) -> None:
    acme, beta, ops = (As.of(channel, who) for who in ("acme", "beta", "operator"))
    await acme.create("shared", label="A")
    await beta.create("shared", label="B")
    run = await acme.send_and_wait("shared", "hello")
    listed = await ops.sessions.ListSessions(spb.ListSessionsRequest())
    assert {s.key for s in listed.sessions} == {
        "tenant:acme:agent:main:shared",
        "tenant:beta:agent:main:shared",
    }
    got = await ops.sessions.GetSession(spb.GetSessionRequest(key="tenant:acme:shared"))
    assert (got.session.key, got.session.label) == ("tenant:acme:agent:main:shared", "A")
    seen = await ops.chat.GetRun(cpb.GetRunRequest(run_id=run.run_id))
    assert seen.run.session_key == "tenant:acme:agent:main:shared"
    # Reads only, across tenants: a change to another tenant's session is refused.
    err = await expect_error(
        ops.chat.Send(cpb.SendRequest(session_key="tenant:acme:shared", text="x")),
        grpc.StatusCode.PERMISSION_DENIED,
        "CROSS_TENANT_WRITE",
    )
    assert "tenant:acme" in (err.details() or "")
    await expect_error(
        ops.chat.Abort(cpb.AbortRequest(run_id=run.run_id)),
        grpc.StatusCode.PERMISSION_DENIED,
        "CROSS_TENANT_WRITE",
    )
    # Its own tenant's sessions it changes as any admin token does.
    own = await ops.create("tenant:ops:desk")
    assert own.key == "tenant:ops:agent:main:desk"
    await expect_error(
        ops.sessions.GetSession(spb.GetSessionRequest(key="tenant:Not Valid:x")),
        grpc.StatusCode.INVALID_ARGUMENT,
    )


def _session(key: str, updated_at: int, agent_id: str = "main") -> Session:
    return Session(key, f"sid-{key}", agent_id, 1, updated_at, "e")


def test_cleanup_caps_and_protects_per_tenant() -> None:
    sessions = [
        _session("agent:main:main", 1),
        _session("agent:main:a", 2),
        _session("agent:main:b", 3),
        _session("tenant:acme:agent:main:main", 1),
        _session("tenant:acme:agent:main:a", 4),
        _session("tenant:acme:agent:main:b", 5),
    ]
    entries = {
        e.key: e.action for e in plan(sessions, CleanupPolicy(max_count=1), "agent:main:main", 10)
    }
    assert entries == {
        "agent:main:main": KEEP,
        "agent:main:b": KEEP,
        "agent:main:a": CAP_OVERFLOW,
        "tenant:acme:agent:main:main": KEEP,
        "tenant:acme:agent:main:b": KEEP,
        "tenant:acme:agent:main:a": CAP_OVERFLOW,
    }
