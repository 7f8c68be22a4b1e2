"""Durability across restarts and optimistic concurrency under contention."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
from google.protobuf import field_mask_pb2
from helpers import (
    StreamReader,
    create_session,
    describe,
    error_info,
    expect_error,
    inject,
    ts_key,
)
from sessiond.v1 import chat_service_pb2_grpc, events_pb2, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

if TYPE_CHECKING:
    from conftest import ServerHandle

Sessions = session_service_pb2_grpc.SessionServiceStub
Chat = chat_service_pb2_grpc.ChatServiceStub
Code = grpc.StatusCode

COMPARED = (
    "key",
    "session_id",
    "agent_id",
    "label",
    "display_name",
    "model",
    "thinking_level",
    "send_policy",
    "message_count",
    "etag",
    "parent_session_key",
)


async def test_data_survives_restart(server: ServerHandle, sessions: Sessions, chat: Chat) -> None:
    await create_session(sessions, key="keep", label="Keeper", model="model-a")
    await sessions.UpdateSession(
        spb.UpdateSessionRequest(
            key="keep",
            update=spb.SessionUpdate(thinking_level="high", metadata={"k": "v"}),
            update_mask=field_mask_pb2.FieldMask(paths=["thinking_level", "metadata"]),
        )
    )
    await inject(chat, "keep", 3)
    await create_session(sessions, key="child", parent_session_key="keep")
    await create_session(sessions, key="reset-me")
    await inject(chat, "reset-me", 2)
    reset = await sessions.ResetSession(spb.ResetSessionRequest(key="reset-me"))
    await create_session(sessions, key="gone")
    await inject(chat, "gone", 1)
    gone = await sessions.DeleteSession(spb.DeleteSessionRequest(key="gone"))

    keys = ["agent:main:keep", "agent:main:child", "agent:main:reset-me"]
    before = {k: (await sessions.GetSession(spb.GetSessionRequest(key=k))).session for k in keys}
    messages_before = await sessions.ListMessages(spb.ListMessagesRequest(key="keep"))
    async with StreamReader(sessions.WatchSessions(spb.WatchSessionsRequest())) as reader:
        history = await reader.read_until(
            lambda r: (
                r.event.session_key == "agent:main:gone"
                and r.event.reason == events_pb2.SESSION_EVENT_REASON_DELETE
            )
        )
    last_cursor = history[-1].event.cursor

    await server.restart()

    async with grpc.aio.insecure_channel(server.target) as channel:
        sessions2 = session_service_pb2_grpc.SessionServiceStub(channel)
        chat2 = chat_service_pb2_grpc.ChatServiceStub(channel)
        for key, old in before.items():
            new = (await sessions2.GetSession(spb.GetSessionRequest(key=key))).session
            for name in COMPARED:
                assert getattr(new, name) == getattr(old, name), (key, name)
            assert dict(new.metadata) == dict(old.metadata)
            assert ts_key(new.created_at) == ts_key(old.created_at)
            assert ts_key(new.updated_at) == ts_key(old.updated_at)

        messages = await sessions2.ListMessages(spb.ListMessagesRequest(key="keep"))
        assert list(messages.messages) == list(messages_before.messages)
        assert [m.text for m in messages.messages] == ["m1", "m2", "m3"]
        archived = await sessions2.ListMessages(
            spb.ListMessagesRequest(session_id=reset.previous_session_id)
        )
        assert archived.archived
        assert [m.text for m in archived.messages] == ["m1", "m2"]
        deleted = await sessions2.ListMessages(
            spb.ListMessagesRequest(session_id=gone.archived_session_id)
        )
        assert [m.text for m in deleted.messages] == ["m1"]
        await expect_error(
            sessions2.GetSession(spb.GetSessionRequest(key="gone")),
            Code.NOT_FOUND,
            "SESSION_NOT_FOUND",
        )
        listed = await sessions2.ListSessions(spb.ListSessionsRequest(page_size=500))
        assert set(keys) <= {s.key for s in listed.sessions}
        await expect_error(
            sessions2.CreateSession(spb.CreateSessionRequest(key="other", label="Keeper")),
            Code.ALREADY_EXISTS,
            "LABEL_IN_USE",
        )

        appended = await inject(chat2, "keep", 1, prefix="after")
        assert appended[0].seq == 4
        async with StreamReader(
            sessions2.WatchSessions(spb.WatchSessionsRequest(after_cursor=last_cursor))
        ) as reader:
            await create_session(sessions2, key="fresh")
            fresh = await reader.read_until(lambda r: r.event.session_key == "agent:main:fresh")
        assert all(r.event.cursor > last_cursor for r in fresh)


async def test_concurrent_updates_with_same_etag(sessions: Sessions) -> None:
    created = await create_session(sessions, key="race")

    async def attempt(i: int) -> spb.UpdateSessionResponse | grpc.aio.AioRpcError:
        try:
            return await sessions.UpdateSession(
                spb.UpdateSessionRequest(
                    key="race",
                    update=spb.SessionUpdate(display_name=f"writer-{i}"),
                    update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
                    etag=created.etag,
                )
            )
        except grpc.aio.AioRpcError as err:
            return err

    results = await asyncio.gather(*(attempt(i) for i in range(50)))
    wins = [r for r in results if isinstance(r, spb.UpdateSessionResponse)]
    errors = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(wins) == 1, [describe(e) for e in errors[:3]]
    assert len(errors) == 49
    for err in errors:
        assert err.code() == Code.ABORTED, describe(err)
        assert error_info(err)[0] == "ETAG_MISMATCH", describe(err)
    final = (await sessions.GetSession(spb.GetSessionRequest(key="race"))).session
    assert final.display_name == wins[0].session.display_name
    assert final.etag == wins[0].session.etag
    assert final.etag != created.etag
