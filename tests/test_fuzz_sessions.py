"""Property test: random requests to every unary SessionService RPC get documented codes only.

Hypothesis drives synchronous calls, so the server runs on its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor, message, message_factory, struct_pb2, text_format
from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from sessiond.config import AgentConfig, Config
from sessiond.server import RunningServer, start_server
from sessiond.v1 import chat_service_pb2, chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb

Code = grpc.StatusCode
FD = descriptor.FieldDescriptor

ALLOWED = {
    Code.OK,
    Code.INVALID_ARGUMENT,
    Code.NOT_FOUND,
    Code.ALREADY_EXISTS,
    Code.FAILED_PRECONDITION,
    Code.ABORTED,
    Code.OUT_OF_RANGE,
    Code.UNIMPLEMENTED,
}
UNARY_RPCS = [
    m.name
    for m in spb.DESCRIPTOR.services_by_name["SessionService"].methods
    if not m.server_streaming and not m.client_streaming
]
# About 150 examples in all, more for the RPCs with the most validation.
EXAMPLES = {"CreateSession": 20, "UpdateSession": 20, "ListSessions": 12, "ListMessages": 12}
DEFAULT_EXAMPLES = 7
ANCHOR = "fuzz-anchor"
# gRPC clients accept at most 8 KiB of response metadata for sure (up to 16 KiB at random).
# Pinning both limits to 8 KiB makes an oversized error (status message plus details) fail
# every time instead of now and then.
METADATA_LIMIT = 8 * 1024
CLIENT_OPTIONS = [
    ("grpc.max_metadata_size", METADATA_LIMIT),
    ("grpc.absolute_max_metadata_size", METADATA_LIMIT),
]

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
TIMESTAMP_SECONDS = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31
DURATION_SECONDS = 315_576_000_000

SPECIAL_STRINGS = [
    "",
    " ",
    "main",
    " MAIN ",
    "global",
    "unknown",
    "agent:main:main",
    "agent:main:fuzz-a",
    "Fuzz-A",
    "fuzz-b",
    "agent:ops:fuzz-o",
    "agent:nobody:x",
    "agent::",
    "agent:main:",
    ":",
    "agent:main:a:b:c",
    "ops",
    "nobody",
    "Fuzz label",
    "off",
    "high",
    "full",
    "stream",
    "adaptive",
    "\x00",
    "a\x00b",
    "\x01\x02\x7f",
    "\u202eevil",
    "e\u0301",
    "\ufeff",
    "\U0001f600",
    "%s%n",
    "'; DROP TABLE sessions; --",
]
MASK_PATHS = [
    "label",
    "display_name",
    "model",
    "thinking_level",
    "verbose_level",
    "reasoning_level",
    "send_policy",
    "queue_mode",
    "metadata",
    "key",
    "session_id",
    "update.label",
    "*",
    "",
]


@pytest.fixture
def config(config: Config) -> Config:
    """Two agents, so agent ids and agent-scoped keys reach deeper code."""
    return replace(config, agents={"main": AgentConfig(), "ops": AgentConfig()})


class ThreadedServer:
    """A sessiond on its own event loop in a background thread, for synchronous callers."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.running: RunningServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sessiond-fuzz", daemon=True)

    @property
    def target(self) -> str:
        assert self.running is not None
        return f"127.0.0.1:{self.running.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as err:  # reported to the test thread
            self._error = err
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self.running = await start_server(self.config)
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.running.stop(0.5)

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(30), "server did not start"
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        assert not self._thread.is_alive(), "server thread did not stop"
        if self._error is not None:
            raise self._error


@pytest.fixture
def threaded_server(config: Config) -> Iterator[ThreadedServer]:
    server = ThreadedServer(config)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- strategies ------------------------------------------------------------------------


def strings(extra: list[str]) -> SearchStrategy[str]:
    # Surrogates cannot be encoded in a proto string at all, so they never reach a server.
    huge = st.builds(
        lambda ch, n: ch * n,
        st.characters(exclude_categories=["Cs"]),
        st.integers(500, 20_000),
    )
    mixed = st.builds(
        lambda a, b, n: (a + b) * n, st.text(max_size=8), st.text(max_size=8), st.integers(1, 2000)
    )
    return st.one_of(
        st.sampled_from(SPECIAL_STRINGS + extra),
        st.text(max_size=40),
        st.text(st.characters(max_codepoint=0x1F), max_size=10),
        huge,
        mixed,
    )


def int_range(low: int, high: int, edges: list[int]) -> SearchStrategy[int]:
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


INT32 = int_range(
    INT32_MIN, INT32_MAX, [0, 1, -1, 5, 20, 64, 65, 500, 501, 1000, 1001, INT32_MIN, INT32_MAX]
)
INT64 = int_range(INT64_MIN, INT64_MAX, [0, 1, -1, 2, 3, 2**31, INT64_MIN, INT64_MAX])

JSON: SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def to_value(data: Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    if data is None:
        value.null_value = struct_pb2.NULL_VALUE
    elif isinstance(data, bool):
        value.bool_value = data
    elif isinstance(data, float):
        value.number_value = data
    elif isinstance(data, str):
        value.string_value = data
    elif isinstance(data, list):
        value.list_value.values.extend(to_value(item) for item in data)
    else:
        for name, item in data.items():
            value.struct_value.fields[name].CopyFrom(to_value(item))
    return value


def well_known(full_name: str, text: SearchStrategy[str]) -> SearchStrategy[Any] | None:
    if full_name == "google.protobuf.Timestamp":
        return st.builds(
            lambda s, n: {"seconds": s, "nanos": n},
            int_range(*TIMESTAMP_SECONDS, [0, 1, TIMESTAMP_SECONDS[0], TIMESTAMP_SECONDS[1]]),
            st.integers(0, 999_999_999),
        )
    if full_name == "google.protobuf.Duration":
        seconds = int_range(-DURATION_SECONDS, DURATION_SECONDS, [0, 1, -1, DURATION_SECONDS])
        return st.builds(
            lambda s, n: {"seconds": s, "nanos": n if s >= 0 else -n},
            seconds,
            st.integers(0, 999_999_999),
        )
    if full_name == "google.protobuf.FieldMask":
        path = st.one_of(st.sampled_from(MASK_PATHS), text)
        return st.builds(lambda p: {"paths": p}, st.lists(path, max_size=5))
    if full_name == "google.protobuf.Value":
        return JSON.map(to_value)
    return None


def scalar(field: descriptor.FieldDescriptor, text: SearchStrategy[str]) -> SearchStrategy[Any]:
    if field.type == FD.TYPE_STRING:
        return text
    if field.type == FD.TYPE_BOOL:
        return st.booleans()
    if field.type == FD.TYPE_INT32:
        return INT32
    if field.type == FD.TYPE_INT64:
        return INT64
    if field.type == FD.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.one_of(st.sampled_from(numbers), st.integers(-3, 100))
    if field.type == FD.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type == FD.TYPE_DOUBLE:
        return st.floats()
    raise NotImplementedError(f"no strategy for {field.full_name}")


def field_values(
    field: descriptor.FieldDescriptor, text: SearchStrategy[str]
) -> SearchStrategy[Any]:
    if field.type == FD.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields
        return st.dictionaries(scalar(key_field, text), scalar(value_field, text), max_size=5)
    if field.type == FD.TYPE_MESSAGE:
        single = messages(field.message_type, text)
    else:
        single = scalar(field, text)
    if field.is_repeated:
        return st.lists(single, max_size=80 if field.type == FD.TYPE_STRING else 5)
    return single


def messages(desc: descriptor.Descriptor, text: SearchStrategy[str]) -> SearchStrategy[Any]:
    """A strategy for a message of type `desc` with any subset of its fields set."""
    known = well_known(desc.full_name, text)
    if known is not None:
        return known
    cls = message_factory.GetMessageClass(desc)
    optional = {f.name: st.deferred(lambda f=f: field_values(f, text)) for f in desc.fields}

    def build(values: dict[str, Any]) -> message.Message:
        msg = cls()
        for name, value in values.items():
            fill(msg, desc.fields_by_name[name], value)
        return msg

    return st.fixed_dictionaries({}, optional=optional).map(build)


def fill(msg: message.Message, field: descriptor.FieldDescriptor, value: Any) -> None:
    target = getattr(msg, field.name)
    if field.type == FD.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        target.update(value)
    elif field.is_repeated:
        for item in value:
            if isinstance(item, dict):
                target.add(**item)
            elif isinstance(item, message.Message):
                target.add().CopyFrom(item)
            else:
                target.append(item)
    elif isinstance(value, message.Message):
        target.CopyFrom(value)
    elif isinstance(value, dict):
        target.CopyFrom(type(target)(**value))
    else:
        setattr(msg, field.name, value)


def summary(request: message.Message) -> str:
    """The request as text, with long lines cut so a failure report stays readable."""
    lines = text_format.MessageToString(request, as_utf8=True).splitlines()
    return "\n".join(
        line if len(line) <= 200 else f"{line[:200]}… ({len(line)} chars)" for line in lines
    )


# --- the property ----------------------------------------------------------------------


def seed(channel: grpc.Channel) -> list[str]:
    """A few sessions with transcripts and an archive; returns known transcript ids."""
    stub = session_service_pb2_grpc.SessionServiceStub(channel)
    chat = chat_service_pb2_grpc.ChatServiceStub(channel)
    ids = []
    for key, label in (
        ("fuzz-a", "Fuzz label"),
        ("fuzz-b", ""),
        ("agent:ops:fuzz-o", "Fuzz label"),
    ):
        created = stub.CreateSession(spb.CreateSessionRequest(key=key, label=label), timeout=10)
        ids.append(created.session.session_id)
        for i in range(3):
            chat.InjectMessage(
                chat_service_pb2.InjectMessageRequest(session_key=key, text=f"seed {i}"), timeout=10
            )
    reset = stub.ResetSession(spb.ResetSessionRequest(key="fuzz-b"), timeout=10)
    ids.append(reset.session.session_id)
    stub.CreateSession(spb.CreateSessionRequest(key=ANCHOR), timeout=10)
    return ids


def assert_alive(stub: Any) -> None:
    stub.CreateSession(spb.CreateSessionRequest(key=ANCHOR), timeout=10)
    got = stub.GetSession(spb.GetSessionRequest(key=ANCHOR), timeout=10)
    assert got.session.key == f"agent:main:{ANCHOR}"


@pytest.mark.parametrize("rpc", UNARY_RPCS)
def test_random_requests_get_documented_codes(threaded_server: ThreadedServer, rpc: str) -> None:
    method = spb.DESCRIPTOR.services_by_name["SessionService"].methods_by_name[rpc]
    with grpc.insecure_channel(threaded_server.target, options=CLIENT_OPTIONS) as channel:
        stub = session_service_pb2_grpc.SessionServiceStub(channel)
        session_ids = seed(channel)
        requests = messages(method.input_type, strings(session_ids))
        call: Callable[..., Any] = getattr(stub, rpc)

        @settings(
            max_examples=EXAMPLES.get(rpc, DEFAULT_EXAMPLES),
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(request=requests)
        def property_holds(request: message.Message) -> None:
            note(f"{rpc}:\n{summary(request)}")
            try:
                call(request, timeout=10)
            except grpc.RpcError as err:
                code = err.code()  # type: ignore[attr-defined]
                details = err.details()  # type: ignore[attr-defined]
                hint = ""
                if "metadata size exceeds" in (details or ""):
                    hint = " (the error's trailers are over 8 KiB: is the input echoed back?)"
                assert code in ALLOWED, f"{rpc} answered {code.name}: {details!r}{hint}"
            assert_alive(stub)

        property_holds()
        assert_alive(stub)
