"""Shared test helpers: polling, rich-status decoding, error assertions, stream readers."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

import grpc
from google.protobuf import timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from sessiond.domain.events import Event
from sessiond.store.base import WriteTx
from sessiond.v1 import chat_service_pb2, resources_pb2
from sessiond.v1 import session_service_pb2 as spb

T = TypeVar("T")

STATUS_DETAILS_KEY = "grpc-status-details-bin"
ERROR_DOMAIN = "sessiond"


async def assert_eventually(
    fn: Callable[[], Awaitable[T]] | Callable[[], T],
    timeout: float = 5.0,  # noqa: ASYNC109 - a polling budget, not a call timeout
    interval: float = 0.02,
) -> T:
    """Call `fn` until it stops raising AssertionError; return its result.

    `fn` may be sync or async. The last AssertionError is re-raised after `timeout`.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            result = fn()
            if inspect.isawaitable(result):
                result = await result
            return result  # type: ignore[return-value]
        except AssertionError:
            if loop.time() >= deadline:
                raise
        await asyncio.sleep(interval)


def rich_status(err: grpc.aio.AioRpcError | grpc.RpcError) -> status_pb2.Status | None:
    """The google.rpc.Status carried in the trailing metadata, if any."""
    trailing = err.trailing_metadata()  # type: ignore[attr-defined]
    if not trailing:
        return None
    for key, value in trailing:
        if key == STATUS_DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return None


def _details(err: grpc.aio.AioRpcError | grpc.RpcError, cls: type[T]) -> list[T]:
    status = rich_status(err)
    if status is None:
        return []
    found: list[T] = []
    for any_detail in status.details:
        msg = cls()
        if any_detail.Is(msg.DESCRIPTOR):  # type: ignore[attr-defined]
            any_detail.Unpack(msg)
            found.append(msg)
    return found


def error_info(err: grpc.aio.AioRpcError | grpc.RpcError) -> tuple[str, dict[str, str]]:
    """The ErrorInfo reason and metadata of a failed call; ("", {}) when there is none."""
    infos = _details(err, error_details_pb2.ErrorInfo)
    if not infos:
        return "", {}
    return infos[0].reason, dict(infos[0].metadata)


def error_domain(err: grpc.aio.AioRpcError | grpc.RpcError) -> str:
    """The ErrorInfo domain of a failed call; "" when there is none."""
    infos = _details(err, error_details_pb2.ErrorInfo)
    return infos[0].domain if infos else ""


def field_violations(err: grpc.aio.AioRpcError | grpc.RpcError) -> list[str]:
    """The field names of every BadRequest field violation of a failed call."""
    return [
        violation.field
        for bad_request in _details(err, error_details_pb2.BadRequest)
        for violation in bad_request.field_violations
    ]


def has_violation(err: grpc.aio.AioRpcError | grpc.RpcError, field: str) -> bool:
    """Whether a violation names `field` itself or a path ending in `.field`."""
    return any(f == field or f.endswith("." + field) for f in field_violations(err))


def describe(err: grpc.aio.AioRpcError | grpc.RpcError) -> str:
    """A one-line description of a failed call for assertion messages."""
    reason, metadata = error_info(err)
    return (
        f"{err.code().name}: {err.details()!r} reason={reason!r} "  # type: ignore[attr-defined]
        f"metadata={metadata} violations={field_violations(err)}"
    )


async def expect_error(
    coro: Awaitable[Any],
    code: grpc.StatusCode,
    reason: str | None = None,
) -> grpc.aio.AioRpcError:
    """Await `coro`, assert it fails with `code` (and ErrorInfo `reason`), return the error."""
    error: grpc.aio.AioRpcError | None = None
    try:
        result = await coro
    except grpc.aio.AioRpcError as err:
        error = err
    if error is None:
        raise AssertionError(f"expected {code.name}, got OK: {result}")
    assert error.code() == code, f"expected {code.name}, got {describe(error)}"
    status = rich_status(error)
    if status is not None:
        assert status.code == code.value[0], f"rich status code {status.code} != {code.name}"
    if reason is not None:
        got, _ = error_info(error)
        assert got == reason, f"expected reason {reason}, got {describe(error)}"
        assert error_domain(error) == ERROR_DOMAIN, describe(error)
    return error


def ts_key(ts: timestamp_pb2.Timestamp) -> tuple[int, int]:
    """A sortable key of a Timestamp."""
    return ts.seconds, ts.nanos


_END = object()


class StreamReader(Generic[T]):
    """Reads a server stream in a background task so a test can wait with deadlines.

    Waiting on the queue (not on the call itself) means a timed-out wait does not
    cancel the RPC. Use as `async with StreamReader(stub.Watch(req)) as reader:`.
    """

    def __init__(self, call: Any) -> None:
        self.call = call
        self.received: list[T] = []
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> StreamReader[T]:
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _pump(self) -> None:
        stream: AsyncIterator[T] = self.call.__aiter__()
        try:
            async for item in stream:
                self._queue.put_nowait(item)
        except asyncio.CancelledError:
            self._queue.put_nowait(_END)
            raise
        except Exception as err:  # handed to the reader
            self._queue.put_nowait(err)
        else:
            self._queue.put_nowait(_END)

    async def live(self, timeout: float = 5.0) -> StreamReader[T]:  # noqa: ASYNC109
        """Waits for a watch's response headers: it has replayed, and what is committed
        from now on reaches it (WatchChat and WatchSessions send them once live)."""
        await live(self.call, timeout)
        return self

    async def next(self, timeout: float = 5.0) -> T:  # noqa: ASYNC109
        """The next item; fails after `timeout` seconds or when the stream ended."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            raise AssertionError(
                f"no stream item within {timeout}s; received so far: {len(self.received)}"
            ) from None
        if item is _END:
            self._queue.put_nowait(_END)
            raise AssertionError("stream ended")
        if isinstance(item, Exception):
            self._queue.put_nowait(item)
            raise item
        self.received.append(item)
        return item  # type: ignore[no-any-return]

    async def read_until(
        self,
        predicate: Callable[[T], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[T]:
        """Items up to and including the first one matching `predicate`, within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        items: list[T] = []
        while True:
            item = await self.next(max(deadline - loop.time(), 0.001))
            items.append(item)
            if predicate(item):
                return items

    async def read_n(self, n: int, timeout: float = 5.0) -> list[T]:  # noqa: ASYNC109
        """The next `n` items within `timeout`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        return [await self.next(max(deadline - loop.time(), 0.001)) for _ in range(n)]

    async def close(self) -> None:
        """Cancel the call and stop reading."""
        self.call.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None


async def live(call: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Waits until a WatchChat or WatchSessions call is live (its response headers came)."""
    try:
        await asyncio.wait_for(call.initial_metadata(), timeout)
    except TimeoutError:
        raise AssertionError(f"the watch was not live within {timeout}s") from None


async def create_session(sessions: Any, **fields: Any) -> resources_pb2.Session:
    """Create a session (CreateSessionRequest fields as keywords) and return it."""
    response = await sessions.CreateSession(spb.CreateSessionRequest(**fields))
    session: resources_pb2.Session = response.session
    return session


async def inject(chat: Any, key: str, count: int, prefix: str = "m") -> list[resources_pb2.Message]:
    """Append `count` assistant messages `<prefix>1`, `<prefix>2`, … to a transcript, in order."""
    messages = []
    for i in range(1, count + 1):
        response = await chat.InjectMessage(
            chat_service_pb2.InjectMessageRequest(session_key=key, text=f"{prefix}{i}")
        )
        messages.append(response.message)
    return messages


async def gather_in_batches(
    factories: list[Callable[[], Awaitable[T]]], batch: int = 50
) -> list[T]:
    """Run the factories' awaitables concurrently, `batch` at a time, keeping their order.

    Factories rather than awaitables: a grpc.aio call starts as soon as it is created.
    """
    results: list[T] = []
    for start in range(0, len(factories), batch):
        results.extend(await asyncio.gather(*(f() for f in factories[start : start + batch])))
    return results


# -- chat helpers (tests/test_chat_*.py) -------------------------------------------------

NON_DURABLE_BODIES = frozenset({"delta", "heartbeat"})
TERMINAL_BODIES = frozenset({"final", "error", "aborted"})


def body_of(event: Any) -> str:
    """The name of a ChatEvent's body (`run_started`, `delta`, `final`, …)."""
    return event.WhichOneof("body") or ""


def is_durable(event: Any) -> bool:
    """Whether a ChatEvent is durable (has its own cursor): not a delta or heartbeat."""
    return body_of(event) not in NON_DURABLE_BODIES


def ends_run(event: Any, run_id: str) -> bool:
    """Whether a ChatEvent is the final/error/aborted event of `run_id`."""
    return event.run_id == run_id and body_of(event) in TERMINAL_BODIES


def apply_delta(texts: dict[str, str], event: Any) -> None:
    """Applies a reply delta to `texts` (by run id): text = text[:offset] + delta.text.

    Fails when the delta would leave a hole (offset past the text received so far).
    """
    delta = event.delta
    if delta.thinking:
        return
    current = texts.get(event.run_id, "")
    assert delta.offset <= len(current), (
        f"delta of run {event.run_id} at offset {delta.offset} leaves a hole after "
        f"{len(current)} code points"
    )
    texts[event.run_id] = current[: delta.offset] + delta.text


async def wait_run(chat: Any, run_id: str, timeout: float = 10.0) -> resources_pb2.Run:  # noqa: ASYNC109
    """WaitRun until `run_id` ends; fails when it has not ended within `timeout` seconds."""
    response = await chat.WaitRun(
        chat_service_pb2.WaitRunRequest(run_id=run_id, timeout_ms=int(timeout * 1000)),
        timeout=timeout + 5,
    )
    assert response.done, f"run {run_id} did not end within {timeout}s: {response.run}"
    run: resources_pb2.Run = response.run
    return run


async def read_to_end(call: Any, timeout: float = 10.0) -> list[Any]:  # noqa: ASYNC109
    """Every item of a server stream that ends by itself; fails after `timeout` seconds."""
    items: list[Any] = []

    async def pump() -> None:
        async for item in call:
            items.append(item)

    try:
        await asyncio.wait_for(pump(), timeout)
    except TimeoutError:
        call.cancel()
        raise AssertionError(
            f"stream did not end within {timeout}s; received {len(items)} items"
        ) from None
    return items


async def list_messages(
    sessions: Any, key: str, *, include_silent: bool = False
) -> list[resources_pb2.Message]:
    """The whole current transcript of `key` (up to 1000 entries), ascending seq."""
    response = await sessions.ListMessages(
        spb.ListMessagesRequest(key=key, page_size=1000, include_silent=include_silent)
    )
    assert not response.next_page_token, "transcript longer than one page"
    return list(response.messages)


def mixed_text(length: int, seed: int = 0) -> str:
    """`length` code points of NFC-stable non-ASCII text (accents, CJK, emoji)."""
    pattern = "Grüße, 世界! ½ ñ çà 🌍🚀 テスト ψ "
    start = seed % len(pattern)
    text = (pattern * (length // len(pattern) + 2))[start : start + length]
    return text


class NoRuns:
    """A RunControl for sessions without runs (core tests that never Send)."""

    @contextlib.asynccontextmanager
    async def paused(self, key: str) -> AsyncIterator[None]:
        yield

    def cancel_queued(self, tx: WriteTx, events: list[Event], key: str) -> None:
        return None
