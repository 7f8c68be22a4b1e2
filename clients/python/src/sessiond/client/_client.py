"""Client, Sessions: thin typed wrappers over the generated stubs, plus resuming streams."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import field_mask_pb2, timestamp_pb2
from sessiond.v1 import chat_service_pb2 as chat_pb
from sessiond.v1 import chat_service_pb2_grpc as chat_rpc
from sessiond.v1 import events_pb2, resources_pb2
from sessiond.v1 import session_service_pb2 as session_pb
from sessiond.v1 import session_service_pb2_grpc as session_rpc

# Codes after which a watch reconnects with its last cursor instead of failing.
RESUMABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.CANCELLED}
)
TERMINAL_BODIES = frozenset({"final", "error", "aborted"})


def reply_text(events: Iterable[events_pb2.ChatEvent]) -> str:
    """The reply assembled from delta events by offset (a resume snapshot replaces text)."""
    text = ""
    for event in events:
        if event.HasField("delta") and not event.delta.thinking:
            text = text[: event.delta.offset] + event.delta.text
    return text


class Sessions:
    """SessionService calls by key; every method returns the generated message types."""

    def __init__(
        self, stub: session_rpc.SessionServiceAsyncStub, metadata: tuple[tuple[str, str], ...]
    ) -> None:
        self._stub = stub
        self._metadata = metadata

    async def create(self, key: str = "", **fields: Any) -> resources_pb2.Session:
        request = session_pb.CreateSessionRequest(key=key, **fields)
        return (await self._stub.CreateSession(request, metadata=self._metadata)).session

    async def get(self, key: str) -> resources_pb2.Session:
        request = session_pb.GetSessionRequest(key=key)
        return (await self._stub.GetSession(request, metadata=self._metadata)).session

    async def list_all(self, page_size: int = 50, **filters: Any) -> list[resources_pb2.Session]:
        """Every session matching the filters, following page tokens."""
        return (await self.list_with_tenant(page_size, **filters))[0]

    async def list_with_tenant(
        self, page_size: int = 50, **filters: Any
    ) -> tuple[list[resources_pb2.Session], str]:
        """`list_all`, and the tenant whose sessions they are (the token's; "" for a token
        reading across tenants, whose keys carry their tenant: `tenant:<id>:<key>`)."""
        found: list[resources_pb2.Session] = []
        token = ""
        while True:
            request = session_pb.ListSessionsRequest(
                page_size=page_size, page_token=token, **filters
            )
            page = await self._stub.ListSessions(request, metadata=self._metadata)
            found.extend(page.sessions)
            token = page.next_page_token
            if not token:
                return found, page.tenant

    async def usage(
        self,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        group_by: Iterable[str] = (),
    ) -> session_pb.GetUsageResponse:
        """Usage (tokens, cost, runs) of the token's tenant from `start` (default: the
        start of today, UTC) to `end` (default: now), grouped by any of `tenant`, `agent`,
        `model` and `day`."""
        request = session_pb.GetUsageRequest(
            group_by=[
                session_pb.UsageGrouping.Value(f"USAGE_GROUPING_{g.upper()}") for g in group_by
            ]
        )
        if start is not None:
            request.start_time.CopyFrom(_timestamp(start))
        if end is not None:
            request.end_time.CopyFrom(_timestamp(end))
        return await self._stub.GetUsage(request, metadata=self._metadata)

    async def update(self, key: str, etag: str = "", **changes: Any) -> resources_pb2.Session:
        request = session_pb.UpdateSessionRequest(
            key=key,
            update=session_pb.SessionUpdate(**changes),
            update_mask=field_mask_pb2.FieldMask(paths=sorted(changes)),
            etag=etag,
        )
        return (await self._stub.UpdateSession(request, metadata=self._metadata)).session

    async def reset(self, key: str) -> session_pb.ResetSessionResponse:
        request = session_pb.ResetSessionRequest(key=key)
        return await self._stub.ResetSession(request, metadata=self._metadata)

    async def delete(self, key: str, *, allow_missing: bool = False) -> bool:
        request = session_pb.DeleteSessionRequest(key=key, allow_missing=allow_missing)
        return (await self._stub.DeleteSession(request, metadata=self._metadata)).deleted

    async def messages(self, key: str = "", session_id: str = "") -> list[resources_pb2.Message]:
        """The whole transcript in seq order."""
        messages: list[resources_pb2.Message] = []
        after = 0
        while True:
            request = session_pb.ListMessagesRequest(
                key=key, session_id=session_id, after_seq=after, page_size=1000
            )
            page = await self._stub.ListMessages(request, metadata=self._metadata)
            messages.extend(page.messages)
            if not page.next_page_token or not page.messages:
                return messages
            after = page.messages[-1].seq

    async def attachment(
        self, session_id: str, seq: int, index: int = 0
    ) -> resources_pb2.Attachment:
        """One attachment with its bytes: messages carry only their attachments' metadata
        (`omitted`); pass the message's `session_id` and `seq` and the attachment's `index`."""
        request = session_pb.GetAttachmentRequest(session_id=session_id, seq=seq, index=index)
        return (await self._stub.GetAttachment(request, metadata=self._metadata)).attachment


def _timestamp(when: dt.datetime) -> timestamp_pb2.Timestamp:
    if when.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(when.astimezone(dt.UTC))
    return stamp


class Client:
    """`async with Client(target, token=...) as client:` — one channel, both services."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        token: str | None = None,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        reconnect_delay_s: float = 0.2,
        max_reconnect_delay_s: float = 5.0,
    ) -> None:
        self.target = target
        self.metadata: tuple[tuple[str, str], ...] = (
            (("authorization", f"Bearer {token}"),) if token else ()
        )
        self.channel = (
            grpc.aio.secure_channel(target, credentials, options=options)
            if credentials is not None
            else grpc.aio.insecure_channel(target, options=options)
        )
        self.chat_stub = chat_rpc.ChatServiceStub(self.channel)
        self.sessions = Sessions(session_rpc.SessionServiceStub(self.channel), self.metadata)
        self.reconnect_delay_s = reconnect_delay_s
        self.max_reconnect_delay_s = max_reconnect_delay_s

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.channel.close()

    async def send(self, key: str, text: str, **fields: Any) -> chat_pb.SendResponse:
        request = chat_pb.SendRequest(session_key=key, text=text, **fields)
        return await self.chat_stub.Send(request, metadata=self.metadata)

    async def abort(self, key: str, run_id: str = "") -> chat_pb.AbortResponse:
        request = chat_pb.AbortRequest(session_key=key, run_id=run_id)
        return await self.chat_stub.Abort(request, metadata=self.metadata)

    async def wait(self, run_id: str, timeout_ms: int = 0) -> resources_pb2.Run:
        request = chat_pb.WaitRunRequest(run_id=run_id, timeout_ms=timeout_ms)
        return (await self.chat_stub.WaitRun(request, metadata=self.metadata)).run

    async def chat(self, key: str, text: str, **fields: Any) -> AsyncIterator[events_pb2.ChatEvent]:
        """Sends and yields the run's events until it ends."""
        request = chat_pb.ChatRequest(session_key=key, text=text, **fields)
        async for reply in self.chat_stub.Chat(request, metadata=self.metadata):
            yield reply.event

    async def watch(
        self, key: str, after_cursor: int = 0, *, start_at_end: bool = False
    ) -> AsyncIterator[events_pb2.ChatEvent]:
        """Every event of a session; on a dropped connection it reconnects from the last
        durable cursor, so nothing is lost or doubled. Runs until the caller stops."""
        cursor, delay = after_cursor, self.reconnect_delay_s
        at_end = start_at_end
        while True:
            request = chat_pb.WatchChatRequest(
                session_key=key, after_cursor=cursor, start_at_end=at_end
            )
            try:
                async for reply in self.chat_stub.WatchChat(request, metadata=self.metadata):
                    event = reply.event
                    if event.WhichOneof("body") not in ("delta", "heartbeat"):
                        cursor, at_end = event.cursor, False
                    delay = self.reconnect_delay_s
                    yield event
            except grpc.aio.AioRpcError as error:
                if error.code() not in RESUMABLE:
                    raise
            await asyncio.sleep(delay)  # backoff before reconnecting, not synchronisation
            delay = min(delay * 2, self.max_reconnect_delay_s)
