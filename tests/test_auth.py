"""Bearer-token auth: every RPC × {no token, bad token, read, write, admin}, open services,
token configuration, and the refusal to serve off-loopback without auth."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest
import structlog
from conftest import ServerHandle
from google.protobuf import descriptor_pool, message_factory
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import error_info, expect_error
from sessiond import config as config_module
from sessiond import config_checks
from sessiond.api.auth import REQUIRED_SCOPE, Scope, TokenTable, bearer_token
from sessiond.config import Config, TokenConfig
from sessiond.server import start_server
from sessiond.v1 import chat_service_pb2, session_service_pb2
from sessiond.v1 import session_service_pb2 as spb

TOKENS = {
    "read": "read-token-0123456789abcdef",
    "write": "write-token-0123456789abcdef",
    "admin": "admin-token-0123456789abcdef",
}
DENIED = {grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED}


def all_methods() -> list[tuple[str, Any]]:
    """(full method name, method descriptor) of every sessiond RPC."""
    methods = []
    for module in (session_service_pb2, chat_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                methods.append((f"/{service.full_name}/{method.name}", method))
    return methods


def test_scope_table_covers_every_rpc_exactly() -> None:
    assert set(REQUIRED_SCOPE) == {name for name, _ in all_methods()}


@pytest.fixture
def config(config: Config) -> Config:
    tokens = tuple(
        TokenConfig(token, (scope,), f"{scope}-client") for scope, token in TOKENS.items()
    )
    return replace(config, auth=replace(config.auth, tokens=tokens))


def metadata_for(credential: str) -> tuple[tuple[str, str], ...]:
    if credential == "none":
        return ()
    if credential == "bad":
        return (("authorization", "Bearer not-a-configured-token-at-all"),)
    return (("authorization", f"Bearer {TOKENS[credential]}"),)


async def call(
    channel: grpc.aio.Channel, name: str, method: Any, credential: str
) -> grpc.StatusCode:
    """The status of one call with an empty request; streams: their first message or status."""
    pool = descriptor_pool.Default()
    request_cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(method.input_type.full_name)
    )
    response_cls = message_factory.GetMessageClass(
        pool.FindMessageTypeByName(method.output_type.full_name)
    )
    codecs: dict[str, Any] = {
        "request_serializer": request_cls.SerializeToString,
        "response_deserializer": response_cls.FromString,
    }
    metadata = metadata_for(credential)
    failure: grpc.aio.AioRpcError | None = None
    try:
        if method.server_streaming:
            stream = channel.unary_stream(name, **codecs)(
                request_cls(), metadata=metadata, timeout=5
            )
            try:
                await stream.read()  # a replayed event or an error status
            finally:
                stream.cancel()
        else:
            await channel.unary_unary(name, **codecs)(request_cls(), metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as err:
        failure = err
    if failure is None:
        return grpc.StatusCode.OK
    if failure.code() in DENIED:
        reason, meta = error_info(failure)
        assert reason in {"TOKEN_MISSING", "TOKEN_INVALID", "INSUFFICIENT_SCOPE"}, reason
        if reason == "INSUFFICIENT_SCOPE":
            assert meta["required_scope"] == REQUIRED_SCOPE[name].name.lower()
            assert f"needs the {meta['required_scope']} scope" in (failure.details() or "")
    return failure.code()


def expected_denial(name: str, credential: str) -> grpc.StatusCode | None:
    if credential in ("none", "bad"):
        return grpc.StatusCode.UNAUTHENTICATED
    if Scope[credential.upper()] < REQUIRED_SCOPE[name]:
        return grpc.StatusCode.PERMISSION_DENIED
    return None  # allowed: whatever the (empty) request earns, but never a denial


@pytest.fixture
async def admin_channel(server: ServerHandle) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(server.target) as chan:
        yield chan


@pytest.mark.parametrize("credential", ["none", "bad", "read", "write", "admin"])
async def test_auth_matrix(admin_channel: grpc.aio.Channel, credential: str) -> None:
    # A session to replay, so WatchSessions answers at once when allowed.
    await admin_channel.unary_unary(
        "/sessiond.v1.SessionService/CreateSession",
        request_serializer=spb.CreateSessionRequest.SerializeToString,
        response_deserializer=spb.CreateSessionResponse.FromString,
    )(spb.CreateSessionRequest(key="matrix"), metadata=metadata_for("admin"))
    wrong = []
    with structlog.testing.capture_logs() as logs:
        for name, method in all_methods():
            got = await call(admin_channel, name, method, credential)
            want = expected_denial(name, credential)
            if (want is None and got in DENIED) or (want is not None and got != want):
                wrong.append(f"{name}: got {got.name}, want {want.name if want else 'allowed'}")
    assert not wrong, "\n".join(wrong)
    assert all(token not in repr(logs) for token in TOKENS.values()), "a token was logged"


async def test_health_and_reflection_need_no_token(admin_channel: grpc.aio.Channel) -> None:
    reply = await health_pb2_grpc.HealthStub(admin_channel).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    from grpc_reflection.v1alpha import reflection_pb2

    method = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
    stream = admin_channel.stream_stream(
        method,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    replies = [
        r async for r in stream(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    ]
    assert replies[0].list_services_response.service


async def test_scope_levels_include_lower_ones(admin_channel: grpc.aio.Channel) -> None:
    get = admin_channel.unary_unary(
        "/sessiond.v1.SessionService/GetSession",
        request_serializer=spb.GetSessionRequest.SerializeToString,
        response_deserializer=spb.GetSessionResponse.FromString,
    )
    for scope in ("read", "write", "admin"):
        await expect_error(
            get(spb.GetSessionRequest(key="nobody"), metadata=metadata_for(scope)),
            grpc.StatusCode.NOT_FOUND,
        )
    # The scheme is case-insensitive; anything but Bearer is not a token.
    lower = (("authorization", f"bearer {TOKENS['read']}"),)
    await expect_error(
        get(spb.GetSessionRequest(key="x"), metadata=lower), grpc.StatusCode.NOT_FOUND
    )
    basic = (("authorization", f"Basic {TOKENS['admin']}"),)
    err = await expect_error(
        get(spb.GetSessionRequest(key="x"), metadata=basic), grpc.StatusCode.UNAUTHENTICATED
    )
    assert error_info(err)[0] == "TOKEN_INVALID"


def test_token_table_and_header_parsing() -> None:
    table = TokenTable([TokenConfig("x" * 20, ("write", "read"), "ci")])
    principal = table.authenticate("x" * 20)
    assert principal is not None
    assert (principal.scope, principal.name) == (Scope.WRITE, "ci")
    assert table.authenticate("x" * 19) is None
    assert table.authenticate("") is None
    assert not TokenTable([])
    assert bearer_token([("authorization", "Bearer  abc ")]) == "abc"
    assert bearer_token([("x-other", "Bearer abc")]) is None
    assert bearer_token([("authorization", "Bearer")]) == ""


def test_tokens_from_toml_and_tokens_file(tmp_path: Path) -> None:
    tokens_file = tmp_path / "tokens.toml"
    tokens_file.write_text(
        '[[tokens]]\nname = "ops"\ntoken = "ops-token-0123456789"\nscopes = ["admin"]\n'
    )
    main = tmp_path / "sessiond.toml"
    main.write_text(
        '[[auth.tokens]]\nname = "dash"\ntoken = "dash-token-0123456789"\nscope = "write"\n'
    )
    loaded = config_module.load(
        {"SESSIOND_CONFIG": str(main), "SESSIOND_TOKENS_FILE": str(tokens_file)}
    )
    assert [(t.name, t.scopes) for t in loaded.auth.tokens] == [
        ("dash", ("write",)),
        ("ops", ("admin",)),
    ]
    assert "token-0123456789" not in repr(loaded)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[tokens]]\ntoken = "short"\n', "shorter than 16"),
        ('[[tokens]]\ntoken = "long-enough-token-123"\nscopes = ["root"]\n', "scopes must be"),
        ('[[tokens]]\nscopes = ["read"]\n', "needs a string `token`"),
    ],
)
def test_bad_tokens_are_refused_without_echoing_them(
    tmp_path: Path, text: str, message: str
) -> None:
    tokens_file = tmp_path / "tokens.toml"
    tokens_file.write_text(text)
    with pytest.raises(config_module.ConfigError, match=message) as raised:
        config_module.load({"SESSIOND_TOKENS_FILE": str(tokens_file)})
    assert "long-enough-token-123" not in str(raised.value)


async def test_no_tokens_refuses_non_loopback_without_insecure(tmp_path: Path) -> None:
    exposed = Config(host="0.0.0.0", port=0, db_path=tmp_path / "x.db")
    with pytest.raises(config_module.ConfigError, match=r"without authentication.*--insecure"):
        await start_server(exposed)
    running = await start_server(replace(exposed, insecure=True))
    await running.stop(0)
    tokens = (TokenConfig("t" * 20, ("read",), "r"),)
    running = await start_server(replace(exposed, auth=replace(exposed.auth, tokens=tokens)))
    await running.stop(0)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_hosts_need_no_auth(host: str) -> None:
    assert config_checks.exposure_problem(Config(host=host)) is None


def test_cli_refuses_exposed_bind(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sessiond.cli import main as cli_main

    assert (
        cli_main(["serve", "--host", "0.0.0.0", "--port", "0", "--db", str(tmp_path / "x.db")]) == 2
    )
    assert "--insecure" in capsys.readouterr().err
