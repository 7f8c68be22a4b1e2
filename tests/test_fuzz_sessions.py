"""Property tests: random requests to every unary SessionService RPC get documented codes
only, and a malformed well-known type (Timestamp, Duration, FieldMask, Value) in any request
of either service is INVALID_ARGUMENT naming its field.

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
from helpers import describe, field_violations
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
NANOS = 1_000_000_000

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

UNSET = object()
"""A google.protobuf.Value with no kind set (JSON has no such thing; the wire does)."""


def json_trees(leaves: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    )


JSON = json_trees(st.none() | st.booleans() | st.floats() | st.text(max_size=20) | st.just(UNSET))
FINITE_JSON = json_trees(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
)
NOT_FINITE = st.sampled_from([float("nan"), float("inf"), float("-inf")])


def to_value(data: Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    if data is UNSET:
        pass
    elif data is None:
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


def seconds_nanos(seconds: SearchStrategy[int], nanos: SearchStrategy[int]) -> SearchStrategy[Any]:
    return st.builds(lambda s, n: {"seconds": s, "nanos": n}, seconds, nanos)


def outside(low: int, high: int, floor: int, ceiling: int) -> SearchStrategy[int]:
    """Integers in floor..ceiling but not in low..high, the edges just outside included."""
    return st.one_of(
        st.sampled_from([low - 1, high + 1, floor, ceiling]),
        st.integers(floor, low - 1),
        st.integers(high + 1, ceiling),
    )


VALID_TIMESTAMPS = seconds_nanos(
    int_range(*TIMESTAMP_SECONDS, [0, 1, TIMESTAMP_SECONDS[0], TIMESTAMP_SECONDS[1]]),
    st.integers(0, NANOS - 1),
)
INVALID_TIMESTAMPS = st.one_of(
    seconds_nanos(outside(*TIMESTAMP_SECONDS, INT64_MIN, INT64_MAX), st.integers(0, NANOS - 1)),
    seconds_nanos(st.integers(*TIMESTAMP_SECONDS), outside(0, NANOS - 1, INT32_MIN, INT32_MAX)),
)
VALID_DURATIONS = st.builds(
    lambda s, n: {"seconds": s, "nanos": n if s >= 0 else -n},
    int_range(-DURATION_SECONDS, DURATION_SECONDS, [0, 1, -1, DURATION_SECONDS]),
    st.integers(0, NANOS - 1),
)
INVALID_DURATIONS = st.one_of(
    seconds_nanos(
        outside(-DURATION_SECONDS, DURATION_SECONDS, INT64_MIN, INT64_MAX),
        st.integers(-(NANOS - 1), NANOS - 1),
    ),
    seconds_nanos(
        st.integers(-DURATION_SECONDS, DURATION_SECONDS),
        outside(-(NANOS - 1), NANOS - 1, INT32_MIN, INT32_MAX),
    ),
    # Nanos must share the sign of seconds.
    seconds_nanos(st.integers(1, DURATION_SECONDS), st.integers(-(NANOS - 1), -1)),
    seconds_nanos(st.integers(-DURATION_SECONDS, -1), st.integers(1, NANOS - 1)),
)
UPDATABLE_PATHS = sorted(spb.SessionUpdate.DESCRIPTOR.fields_by_name)
INVALID_MASKS = st.builds(
    lambda good, bad, at: {"paths": [*good[:at], bad, *good[at:]]},
    st.lists(st.sampled_from(UPDATABLE_PATHS), max_size=4),
    st.one_of(st.sampled_from(MASK_PATHS), st.text(max_size=20)).filter(
        lambda p: p not in UPDATABLE_PATHS
    ),
    st.integers(0, 4),
)
INVALID_VALUES = st.one_of(
    NOT_FINITE,
    st.builds(lambda items, bad: [*items, bad], st.lists(FINITE_JSON, max_size=3), NOT_FINITE),
    st.builds(
        lambda fields, bad: {**fields, "bad": [bad]},
        st.dictionaries(st.text(max_size=10), FINITE_JSON, max_size=3),
        NOT_FINITE,
    ),
).map(to_value)
INVALID_WELL_KNOWN: dict[str, SearchStrategy[Any]] = {
    "google.protobuf.Timestamp": INVALID_TIMESTAMPS,
    "google.protobuf.Duration": INVALID_DURATIONS,
    "google.protobuf.FieldMask": INVALID_MASKS,
    "google.protobuf.Value": INVALID_VALUES,
}
"""Each well-known type a request may carry, malformed: out of its defined range (Timestamp,
Duration), naming no updatable field (FieldMask), or with no JSON form (Value)."""


def well_known(full_name: str, text: SearchStrategy[str]) -> SearchStrategy[Any] | None:
    if full_name == "google.protobuf.Timestamp":
        return st.one_of(VALID_TIMESTAMPS, INVALID_TIMESTAMPS)
    if full_name == "google.protobuf.Duration":
        return st.one_of(VALID_DURATIONS, INVALID_DURATIONS)
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


# --- malformed well-known types, field by field ------------------------------------------

SERVICES = [
    spb.DESCRIPTOR.services_by_name["SessionService"],
    chat_service_pb2.DESCRIPTOR.services_by_name["ChatService"],
]


def well_known_fields(
    desc: descriptor.Descriptor, prefix: str = "", seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, str]]:
    """(field path, type) of every well-known-type field reachable in a request, through
    nested messages; an element of a repeated field is `name[0]`."""
    for field in desc.fields:
        if field.type != FD.TYPE_MESSAGE or field.message_type.GetOptions().map_entry:
            continue
        kind = field.message_type.full_name
        path = prefix + field.name + ("[0]" if field.is_repeated else "")
        if kind.startswith("google.protobuf."):
            yield path, kind
        elif kind not in seen:
            yield from well_known_fields(field.message_type, path + ".", seen | {kind})


WELL_KNOWN_FIELDS = [
    (service, method, path, kind)
    for service in SERVICES
    for method in service.methods
    for path, kind in well_known_fields(method.input_type)
]


def set_path(request: message.Message, path: str, value: Any) -> None:
    """Sets the field at `path` (as `well_known_fields` names it) to `value`."""
    *parents, last = path.split(".")
    target = request
    for part in parents:
        name = part.removesuffix("[0]")
        target = getattr(target, name).add() if part.endswith("[0]") else getattr(target, name)
    name = last.removesuffix("[0]")
    slot = getattr(target, name).add() if last.endswith("[0]") else getattr(target, name)
    if isinstance(value, message.Message):
        slot.CopyFrom(value)
    else:
        slot.CopyFrom(type(slot)(**value))


def test_every_well_known_type_in_a_request_has_malformed_examples() -> None:
    """The fields the next test covers: every one of a type it can make malformed, and the
    ones known today among them (so it never passes by finding nothing)."""
    found = {f"{m.name}.{path}": kind for _, m, path, kind in WELL_KNOWN_FIELDS}
    assert {name for name, kind in found.items() if kind not in INVALID_WELL_KNOWN} == set()
    assert {
        "ListSessions.updated_after",
        "CleanupSessions.max_age",
        "CleanupSessions.archive_max_age",
        "UpdateSession.update_mask",
        "UpdatePluginState.value",
    } <= set(found)


@pytest.mark.parametrize(
    ("service", "method", "path", "kind"),
    WELL_KNOWN_FIELDS,
    ids=[f"{m.name}.{path}" for _, m, path, _ in WELL_KNOWN_FIELDS],
)
def test_malformed_well_known_types_are_invalid_argument(
    threaded_server: ThreadedServer,
    service: descriptor.ServiceDescriptor,
    method: descriptor.MethodDescriptor,
    path: str,
    kind: str,
) -> None:
    """A request otherwise empty but for one malformed well-known type: INVALID_ARGUMENT
    naming that field (never INTERNAL, never UNKNOWN, never accepted)."""
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    with grpc.insecure_channel(threaded_server.target, options=CLIENT_OPTIONS) as channel:
        route = f"/{service.full_name}/{method.name}"
        if method.server_streaming:
            stream = channel.unary_stream(
                route, request_cls.SerializeToString, response_cls.FromString
            )

            def call(request: message.Message) -> None:
                next(iter(stream(request, timeout=10)))

        else:
            unary = channel.unary_unary(
                route, request_cls.SerializeToString, response_cls.FromString
            )

            def call(request: message.Message) -> None:
                unary(request, timeout=10)

        @settings(
            max_examples=25,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )
        @given(value=INVALID_WELL_KNOWN[kind])
        def property_holds(value: Any) -> None:
            request = request_cls()
            set_path(request, path, value)
            note(f"{method.name}:\n{summary(request)}")
            with pytest.raises(grpc.RpcError) as raised:
                call(request)
            err = raised.value
            assert err.code() == Code.INVALID_ARGUMENT, describe(err)  # type: ignore[attr-defined]
            assert field_violations(err) == [path.removesuffix("[0]")], describe(err)

        property_holds()
