"""A NUL byte in any string of a request is INVALID_ARGUMENT naming the field: ids too,
which the store would otherwise be handed as they come (PostgreSQL refuses NUL in text)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from helpers import create_session, expect_error, has_violation
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("rpc", "request_of", "field"),
    [
        ("GetRun", lambda: cpb.GetRunRequest(run_id=NUL), "run_id"),
        (
            "Send",
            lambda: cpb.SendRequest(session_key="k", text="hi", idempotency_key=NUL),
            "idempotency_key",
        ),
        ("ListMessages", lambda: spb.ListMessagesRequest(session_id=NUL), "session_id"),
        (
            "GetCheckpoint",
            lambda: spb.GetCheckpointRequest(key="k", checkpoint_id=NUL),
            "checkpoint_id",
        ),
        ("PreviewSessions", lambda: spb.PreviewSessionsRequest(keys=["k", NUL]), "keys"),
        (
            "CreateSession",
            lambda: spb.CreateSessionRequest(key="other", metadata={"team": NUL}),
            "metadata",
        ),
        ("Abort", lambda: cpb.AbortRequest(session_key="k", run_id=NUL), "run_id"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
async def test_a_nul_byte_in_any_string_is_invalid_argument_naming_the_field(
    sessions: session_service_pb2_grpc.SessionServiceStub,
    chat: chat_service_pb2_grpc.ChatServiceStub,
    rpc: str,
    request_of: Any,
    field: str,
) -> None:
    await create_session(sessions, key="k")
    stub: Any = chat if hasattr(chat, rpc) else sessions
    err = await expect_error(getattr(stub, rpc)(request_of()), grpc.StatusCode.INVALID_ARGUMENT)
    assert has_violation(err, field), err.details()
    assert "NUL" in (err.details() or "")
