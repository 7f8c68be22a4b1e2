"""Every RPC of both services × {own tenant, other tenant}, on a real server with two
tenants' tokens: the other tenant gets NOT_FOUND (never PERMISSION_DENIED) for whatever
it names of the first, by key or by global id (run, transcript, checkpoint), and lists
and feeds without any of it. No stored key prefix reaches either client.

The cases are checked against the services' descriptors, so a new RPC cannot escape.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from conftest import ServerHandle
from google.protobuf import field_mask_pb2, struct_pb2, text_format
from helpers import error_info
from sessiond.config import Config
from sessiond.v1 import chat_service_pb2, resources_pb2, session_service_pb2
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import session_service_pb2 as spb
from tenant_helpers import As, with_tokens

STORED_KEY = re.compile(r"tenant:[a-z0-9_-]+:")
KEY = "acme-chat"
LABEL = "acme label"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class Ids:
    """What tenant acme holds: a session, a run, an archived transcript (with an
    attachment in its first entry) and the checkpoint preserving it."""

    key: str
    run_id: str
    session_id: str
    archived_session_id: str
    checkpoint_id: str


Check = Callable[[Any, Ids], None]
"""Asserts what a successful response of the other tenant must (not) show."""


@dataclass(frozen=True)
class Case:
    request: Callable[[Ids], Any]
    other_sees_nothing: Check | None = None
    """None: the other tenant gets NOT_FOUND. Else its call succeeds and this check holds."""


def _no_session(response: Any, ids: Ids) -> None:
    assert all(s.key != f"agent:main:{KEY}" for s in response.sessions)
    assert all(s.label != LABEL for s in response.sessions)


def _missing_preview(response: Any, ids: Ids) -> None:
    assert [p.status for p in response.previews] == [spb.PREVIEW_STATUS_MISSING]


def _no_archive(response: Any, ids: Ids) -> None:
    assert ids.archived_session_id not in {a.session_id for a in response.archives}


def _no_cleanup_entry(response: Any, ids: Ids) -> None:
    assert f"agent:main:{KEY}" not in {e.key for e in response.entries}


def _no_usage(response: Any, ids: Ids) -> None:
    assert all(row.tenant != "acme" for row in response.rows), response


def _first_event_is_own(response: Any, ids: Ids) -> None:
    # The other tenant's first retained event is its own marker, not acme's.
    assert response.event.session_key == "agent:main:beta-marker", response


CASES: dict[str, Case] = {
    "CreateSession": Case(
        lambda i: spb.CreateSessionRequest(key="child", parent_session_key=i.key)
    ),
    "GetSession": Case(lambda i: spb.GetSessionRequest(key=i.key)),
    "ListSessions": Case(lambda i: spb.ListSessionsRequest(label_contains="acme"), _no_session),
    "ResolveSession": Case(lambda i: spb.ResolveSessionRequest(session_id=i.session_id)),
    "UpdateSession": Case(
        lambda i: spb.UpdateSessionRequest(
            key=i.key,
            update=spb.SessionUpdate(display_name="x"),
            update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
        )
    ),
    "ResetSession": Case(lambda i: spb.ResetSessionRequest(key=i.key)),
    "DeleteSession": Case(lambda i: spb.DeleteSessionRequest(key=i.key)),
    "ListMessages": Case(lambda i: spb.ListMessagesRequest(session_id=i.archived_session_id)),
    "GetAttachment": Case(
        lambda i: spb.GetAttachmentRequest(session_id=i.archived_session_id, seq=1, index=0)
    ),
    "PreviewSessions": Case(lambda i: spb.PreviewSessionsRequest(keys=[i.key]), _missing_preview),
    "ListArchives": Case(lambda i: spb.ListArchivesRequest(), _no_archive),
    "CleanupSessions": Case(lambda i: spb.CleanupSessionsRequest(dry_run=True), _no_cleanup_entry),
    "CompactSession": Case(lambda i: spb.CompactSessionRequest(key=i.key, max_lines=1)),
    "ListCheckpoints": Case(lambda i: spb.ListCheckpointsRequest(key=i.key)),
    "GetCheckpoint": Case(
        lambda i: spb.GetCheckpointRequest(key=i.key, checkpoint_id=i.checkpoint_id)
    ),
    "BranchCheckpoint": Case(
        lambda i: spb.BranchCheckpointRequest(key=i.key, checkpoint_id=i.checkpoint_id)
    ),
    "RestoreCheckpoint": Case(
        lambda i: spb.RestoreCheckpointRequest(key=i.key, checkpoint_id=i.checkpoint_id)
    ),
    "UpdatePluginState": Case(
        lambda i: spb.UpdatePluginStateRequest(
            key=i.key, plugin_id="p", namespace="n", value=struct_pb2.Value(string_value="v")
        )
    ),
    "WatchSessions": Case(lambda i: spb.WatchSessionsRequest(), _first_event_is_own),
    "GetUsage": Case(
        lambda i: spb.GetUsageRequest(group_by=[spb.USAGE_GROUPING_TENANT]), _no_usage
    ),
    "Send": Case(lambda i: cpb.SendRequest(session_key=i.key, text="hi")),
    "Steer": Case(lambda i: cpb.SteerRequest(session_key=i.key, text="hi")),
    "Abort": Case(lambda i: cpb.AbortRequest(run_id=i.run_id)),
    "Chat": Case(lambda i: cpb.ChatRequest(session_key=i.key, text="hi")),
    "WatchChat": Case(lambda i: cpb.WatchChatRequest(session_key=i.key)),
    "GetRun": Case(lambda i: cpb.GetRunRequest(run_id=i.run_id)),
    "WaitRun": Case(lambda i: cpb.WaitRunRequest(run_id=i.run_id, timeout_ms=1)),
    "ListRuns": Case(lambda i: cpb.ListRunsRequest(session_key=i.key)),
    "InjectMessage": Case(lambda i: cpb.InjectMessageRequest(session_key=i.key, text="x")),
}


def all_methods() -> dict[str, Any]:
    methods = {}
    for module in (session_service_pb2, chat_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                methods[method.name] = (service.full_name, method)
    return methods


def test_the_matrix_covers_every_rpc() -> None:
    assert set(CASES) == set(all_methods())


@pytest.fixture
def config(config: Config) -> Config:
    return with_tokens(config)


async def acme_holds(acme: As) -> Ids:
    await acme.create(KEY, label=LABEL)
    image = resources_pb2.Attachment(mime_type="image/png", data=PNG, file_name="a.png")
    run = await acme.send_and_wait(KEY, "hello", attachments=[image])
    compacted = await acme.sessions.CompactSession(spb.CompactSessionRequest(key=KEY, max_lines=1))
    assert compacted.compacted
    checkpoint = await acme.sessions.GetCheckpoint(
        spb.GetCheckpointRequest(key=KEY, checkpoint_id=compacted.checkpoint_id)
    )
    return Ids(
        key=KEY,
        run_id=run.run_id,
        session_id=compacted.session.session_id,
        archived_session_id=checkpoint.checkpoint.session_id,
        checkpoint_id=compacted.checkpoint_id,
    )


async def call(who: As, method: str, request: Any) -> Any:
    """The response (a stream's first message), or the AioRpcError."""
    service = who.sessions if hasattr(spb, type(request).__name__) else who.chat
    try:
        result = getattr(service, method)(request, timeout=5)
        if isinstance(result, Awaitable):
            return await result
        try:
            return await result.read()
        finally:
            result.cancel()
    except grpc.aio.AioRpcError as error:
        return error


def assert_no_prefix(outcome: Any) -> None:
    if isinstance(outcome, grpc.aio.AioRpcError):
        text = f"{outcome.details()} {error_info(outcome)}"
    else:
        text = text_format.MessageToString(outcome)
    assert not STORED_KEY.search(text), text


@pytest.mark.parametrize("method", sorted(CASES))
async def test_other_tenant_sees_nothing_own_tenant_everything(
    server: ServerHandle, method: str
) -> None:
    async with grpc.aio.insecure_channel(server.target) as channel:
        acme, beta = As.of(channel, "acme"), As.of(channel, "beta")
        ids = await acme_holds(acme)
        await beta.create("beta-marker")
        case = CASES[method]
        request = case.request(ids)

        theirs = await call(beta, method, request)
        assert_no_prefix(theirs)
        if case.other_sees_nothing is None:
            assert isinstance(theirs, grpc.aio.AioRpcError), f"{method}: {theirs}"
            assert theirs.code() == grpc.StatusCode.NOT_FOUND, f"{method}: {theirs}"
        else:
            assert not isinstance(theirs, grpc.aio.AioRpcError), f"{method}: {theirs}"
            case.other_sees_nothing(theirs, ids)

        own = await call(acme, method, request)
        assert_no_prefix(own)
        assert not isinstance(own, grpc.aio.AioRpcError), f"{method}: {own}"
        if case.other_sees_nothing is not None:
            with pytest.raises(AssertionError):
                case.other_sees_nothing(own, ids)  # the check can tell: acme sees its data
