"""ChatService: InjectMessage now; runs and chat streams arrive with the chat issue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sessiond.api import convert
from sessiond.api.handlers import Ctx, server_stream, unary
from sessiond.core.errors import Unimplemented
from sessiond.core.sessions import SessionManager, inject_message
from sessiond.v1 import chat_service_pb2 as pb
from sessiond.v1 import chat_service_pb2_grpc


def _not_yet(rpc: str) -> Unimplemented:
    return Unimplemented(f"{rpc} is not implemented yet")


class ChatServicer(chat_service_pb2_grpc.ChatServiceServicer):
    def __init__(self, manager: SessionManager) -> None:
        self.manager = manager

    @unary
    async def InjectMessage(
        self, request: pb.InjectMessageRequest, context: Ctx
    ) -> pb.InjectMessageResponse:
        message = await inject_message(
            self.manager, request.session_key, request.text, request.label
        )
        return pb.InjectMessageResponse(message=convert.message_pb(message))

    @unary
    async def Send(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("Send")

    @unary
    async def Steer(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("Steer")

    @unary
    async def Abort(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("Abort")

    @unary
    async def GetRun(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("GetRun")

    @unary
    async def WaitRun(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("WaitRun")

    @unary
    async def ListRuns(self, request: Any, context: Ctx) -> Any:
        raise _not_yet("ListRuns")

    @server_stream
    async def Chat(self, request: Any, context: Ctx) -> AsyncIterator[Any]:
        raise _not_yet("Chat")
        yield  # pragma: no cover - makes this an async generator

    @server_stream
    async def WatchChat(self, request: Any, context: Ctx) -> AsyncIterator[Any]:
        raise _not_yet("WatchChat")
        yield  # pragma: no cover
