"""ChatService: converts messages and delegates to core runs and chat feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Generic, TypeVar

from sessiond.api import convert
from sessiond.api.callers import current_caller
from sessiond.api.handlers import Ctx, LiveHeaders, server_stream, unary
from sessiond.core.runs.admission import SendInput
from sessiond.core.runs.queries import RunQueries
from sessiond.core.runs.service import RunService, SendStatus
from sessiond.core.sessions.manager import SessionManager, inject_message
from sessiond.core.streams.chat import ChatStreams, FeedItem, Heartbeat
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.events import Event, LiveDelta
from sessiond.domain.models import Attachment
from sessiond.v1 import chat_service_pb2 as pb
from sessiond.v1 import chat_service_pb2_grpc, events_pb2

_SEND_STATUS = {
    SendStatus.STARTED: pb.SEND_STATUS_STARTED,
    SendStatus.QUEUED: pb.SEND_STATUS_QUEUED,
    SendStatus.DUPLICATE: pb.SEND_STATUS_DUPLICATE,
}
# WaitRun with no timeout waits this long at most when the call has no deadline either.
MAX_WAIT_S = 3600.0


def send_input(request: pb.SendRequest | pb.SteerRequest | pb.ChatRequest) -> SendInput:
    return SendInput(
        session_key=request.session_key,
        text=request.text,
        attachments=tuple(
            Attachment(a.mime_type, a.data, a.file_name) for a in request.attachments
        ),
        idempotency_key=request.idempotency_key,
        thinking=request.thinking,
        timeout_ms=request.timeout_ms,
        expected_last_seq=(
            request.expected_last_seq if request.HasField("expected_last_seq") else None
        ),
    )


def chat_event_of(item: FeedItem, cursor: int, view: convert.KeyView) -> events_pb2.ChatEvent:
    if isinstance(item, Event):
        return convert.chat_event_pb(item, view)
    if isinstance(item, LiveDelta):
        return convert.live_delta_pb(item, cursor, view)
    return convert.heartbeat_pb(item.session_key, item.ts, cursor, view)


R = TypeVar("R")
SHARED_RESPONSES = 1024


class SharedResponses(Generic[R]):
    """Responses built once per live event and sent by every stream it reaches.

    The bus contract (`bus/base.py`) hands one message to every subscription of its topic
    in this process as the same, immutable object: with 1,000 WatchChat streams of a
    session, a live event's ChatEvent (and its response wrapper) is built once, not 1,000
    times. Only the saving rests on that sharing, not what is sent: entries are keyed by
    the item's identity and the cursor the stream gives it (deltas carry the stream's
    last durable cursor), and keep their item alive so an identity is never reused while
    cached. An item no other stream holds (a merged or trimmed delta, an event replayed
    from the store) is a miss, built for its stream. Heartbeats are per stream and never
    cached. The keys shown depend on the caller only by whether it sees them as stored
    (every stream of one session is of its tenant, or all_tenants): that is in the
    entry's key too.
    """

    def __init__(self, wrap: Callable[[events_pb2.ChatEvent], R], size: int = SHARED_RESPONSES):
        self.wrap = wrap
        self.size = size
        self._cache: dict[tuple[int, int, bool], tuple[FeedItem, R]] = {}

    def get(self, item: FeedItem, cursor: int, caller: Caller) -> R:
        if isinstance(item, Heartbeat):
            return self.wrap(chat_event_of(item, cursor, caller.public_key))
        key = (id(item), cursor, caller.all_tenants)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is item:
            return hit[1]
        response = self.wrap(chat_event_of(item, cursor, caller.public_key))
        if len(self._cache) >= self.size:
            del self._cache[next(iter(self._cache))]
        self._cache[key] = (item, response)
        return response


async def stream_events(
    items: AsyncIterator[FeedItem], cursor: int
) -> AsyncIterator[tuple[FeedItem, int]]:
    """Feed items with the cursor each carries: deltas and heartbeats get the last durable
    cursor."""
    async for item in items:
        if isinstance(item, Event):
            cursor = item.cursor
        yield item, cursor


class ChatServicer(chat_service_pb2_grpc.ChatServiceServicer):
    def __init__(
        self,
        manager: SessionManager,
        runs: RunService,
        run_queries: RunQueries,
        streams: ChatStreams,
    ) -> None:
        self.manager = manager
        self.runs = runs
        self.run_queries = run_queries
        self.streams = streams
        self._chat_responses = SharedResponses(lambda e: pb.ChatResponse(event=e))
        self._watch_responses = SharedResponses(lambda e: pb.WatchChatResponse(event=e))

    @unary
    async def Send(self, request: pb.SendRequest, context: Ctx) -> pb.SendResponse:
        caller = current_caller()
        result = await self.runs.send(caller, send_input(request))
        return pb.SendResponse(
            run_id=result.run.run_id,
            message_seq=result.run.message_seq,
            status=_SEND_STATUS[result.status],
            session_key=caller.public_key(result.session_key),
        )

    @unary
    async def Steer(self, request: pb.SteerRequest, context: Ctx) -> pb.SteerResponse:
        caller = current_caller()
        result = await self.runs.send(caller, send_input(request), steer=True)
        return pb.SteerResponse(
            run_id=result.run.run_id,
            message_seq=result.run.message_seq,
            status=_SEND_STATUS[result.status],
            session_key=caller.public_key(result.session_key),
            interrupted_active_run=bool(result.interrupted_run_id),
            interrupted_run_id=result.interrupted_run_id,
        )

    @unary
    async def Abort(self, request: pb.AbortRequest, context: Ctx) -> pb.AbortResponse:
        caller = current_caller()
        result = await self.runs.abort(
            caller, request.session_key, request.run_id, request.clear_queue
        )
        stopped = result.aborted_run_id or result.cancelled_run_ids
        return pb.AbortResponse(
            status=pb.ABORT_STATUS_ABORTED if stopped else pb.ABORT_STATUS_NO_ACTIVE_RUN,
            aborted_run_id=result.aborted_run_id,
            session_key=caller.public_key(result.session_key),
            cancelled_run_ids=result.cancelled_run_ids,
        )

    @server_stream
    async def Chat(self, request: pb.ChatRequest, context: Ctx) -> AsyncIterator[pb.ChatResponse]:
        caller = current_caller()
        subscription = await self.streams.subscribe(caller, request.session_key)
        try:
            result = await self.runs.send(caller, send_input(request))
        except BaseException:
            subscription.close()
            raise
        fresh = result.status is not SendStatus.DUPLICATE
        items = self.streams.follow_run(result.session_key, result.run, subscription, fresh=fresh)
        responses = self._chat_responses
        async for item, cursor in stream_events(items, result.run.first_cursor - 1):
            yield responses.get(item, cursor, caller)

    @server_stream
    async def WatchChat(
        self, request: pb.WatchChatRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchChatResponse]:
        # Resolved first so deltas and heartbeats before the first durable event carry the
        # cursor the stream really starts from (the head, with start_at_end).
        caller = current_caller()
        start = await self.streams.start_cursor(
            caller, request.session_key, request.after_cursor, request.start_at_end
        )
        from_oldest = not request.start_at_end and request.after_cursor == 0
        headers = LiveHeaders(context)
        items = self.streams.watch(
            caller, request.session_key, start, from_oldest=from_oldest, on_live=headers.live
        )
        responses = self._watch_responses
        async for item, cursor in stream_events(items, start):
            headers.wrote()
            yield responses.get(item, cursor, caller)

    @unary
    async def GetRun(self, request: pb.GetRunRequest, context: Ctx) -> pb.GetRunResponse:
        caller = current_caller()
        run = await self.run_queries.get_run(caller, request.run_id)
        return pb.GetRunResponse(run=convert.run_pb(run, caller.public_key))

    @unary
    async def WaitRun(self, request: pb.WaitRunRequest, context: Ctx) -> pb.WaitRunResponse:
        if request.timeout_ms < 0:
            raise InvalidArgument("timeout_ms", "timeout_ms must not be negative")
        remaining = context.time_remaining()
        wait_s = request.timeout_ms / 1000 if request.timeout_ms else MAX_WAIT_S
        if remaining is not None:
            wait_s = min(wait_s, max(0.0, remaining - 0.05))
        caller = current_caller()
        run = await self.run_queries.wait_run(caller, request.run_id, wait_s)
        return pb.WaitRunResponse(run=convert.run_pb(run, caller.public_key), done=run.ended)

    @unary
    async def ListRuns(self, request: pb.ListRunsRequest, context: Ctx) -> pb.ListRunsResponse:
        status = convert.RUN_STATUS_FROM_PB.get(request.status)
        caller = current_caller()
        rows, token = await self.run_queries.list_runs(
            caller, request.session_key, status, request.page_size, request.page_token
        )
        return pb.ListRunsResponse(
            runs=[convert.run_pb(r, caller.public_key) for r in rows], next_page_token=token
        )

    @unary
    async def InjectMessage(
        self, request: pb.InjectMessageRequest, context: Ctx
    ) -> pb.InjectMessageResponse:
        message = await inject_message(
            self.manager, current_caller(), request.session_key, request.text, request.label
        )
        return pb.InjectMessageResponse(message=convert.message_pb(message))
