"""Shared wrappers for servicer methods: errors mapped in one place."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias, TypeVar

import grpc
from sessiond.api.errors import abort_deadline, abort_with
from sessiond.api.strings import reject_nul

Req = TypeVar("Req")
Resp = TypeVar("Resp")
Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]


def unary(
    fn: Callable[[Any, Req, Ctx], Awaitable[Resp]],
) -> Callable[[Any, Req, Ctx], Awaitable[Resp]]:
    @functools.wraps(fn)
    async def handler(self: Any, request: Req, context: Ctx) -> Resp:
        # The call's deadline bounds the work (store reads and writes, waiting on a run):
        # past it the client has gone, so the handler stops instead of finishing unseen.
        budget = asyncio.timeout(context.time_remaining())
        try:
            reject_nul(request)  # type: ignore[arg-type]
            async with budget:
                return await fn(self, request, context)
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except TimeoutError as exc:
            if budget.expired():
                await abort_deadline(context)
            await abort_with(context, exc)
            raise
        except Exception as exc:
            await abort_with(context, exc)
            raise  # abort raises; this keeps type checkers honest

    return handler


def server_stream(
    fn: Callable[[Any, Req, Ctx], AsyncIterator[Resp]],
) -> Callable[[Any, Req, Ctx], AsyncIterator[Resp]]:
    @functools.wraps(fn)
    async def handler(self: Any, request: Req, context: Ctx) -> AsyncIterator[Resp]:
        try:
            reject_nul(request)  # type: ignore[arg-type]
            async for item in fn(self, request, context):
                yield item
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception as exc:
            await abort_with(context, exc)

    return handler


class LiveHeaders:
    """Sends a watch's response headers once it is live, unless a message carried them
    already. A client that awaits them (`initial_metadata()`) knows that whatever is
    committed from then on reaches its stream; a watch from the head would otherwise say
    nothing until something happens, and a Send racing its setup could go unseen."""

    def __init__(self, context: Ctx) -> None:
        self._context = context
        self._sent = False

    def wrote(self) -> None:
        """A message went out (gRPC sends the headers with the first one)."""
        self._sent = True

    async def live(self) -> None:
        if not self._sent:
            self._sent = True
            await self._context.send_initial_metadata(())
