"""Serving basics: health, reflection under both names, configuration precedence."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from conftest import ServerHandle
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from sessiond import config as config_module
from sessiond.cli import main as cli_main

SERVICES = {"sessiond.v1.SessionService", "sessiond.v1.ChatService"}


async def test_health_serving_for_every_service(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    for service in ("", *SERVICES):
        reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("version", ["v1alpha", "v1"])
async def test_reflection_lists_and_describes_services(
    channel: grpc.aio.Channel, version: str
) -> None:
    # v1 and v1alpha share their wire format, so the v1alpha messages encode both.
    method = f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo"
    call = channel.stream_stream(
        method,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    requests = [
        reflection_pb2.ServerReflectionRequest(list_services=""),
        reflection_pb2.ServerReflectionRequest(file_containing_symbol="sessiond.v1.ChatService"),
    ]
    replies = [reply async for reply in call(iter(requests))]
    listed = {s.name for s in replies[0].list_services_response.service}
    assert listed >= SERVICES | {"grpc.health.v1.Health"}
    assert replies[1].file_descriptor_response.file_descriptor_proto


async def test_server_stop_ends_open_streams(server: ServerHandle) -> None:
    from sessiond.v1 import session_service_pb2 as spb
    from sessiond.v1 import session_service_pb2_grpc

    async with grpc.aio.insecure_channel(server.target) as chan:
        stub = session_service_pb2_grpc.SessionServiceStub(chan)
        stream = stub.WatchSessions(spb.WatchSessionsRequest())
        await stub.CreateSession(spb.CreateSessionRequest(key="x"))
        first = await stream.read()
        assert first.event.session_key == "agent:main:x"
        await server.stop(grace=0.5)
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await _read_to_end(stream)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "shutting down" in (ended.value.details() or "")


async def _read_to_end(stream: grpc.aio.UnaryStreamCall[object, object]) -> None:
    while await stream.read() != grpc.aio.EOF:
        pass
    raise AssertionError("stream ended without a status")


def test_config_precedence_defaults_file_env(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text(
        '[server]\nport = 6000\nhost = "127.0.0.2"\n'
        '[agents.main]\nbackend = "echo"\n'
        '[agents.gpt]\nbackend = "openai"\nmodel = "m"\napi_key_env = "MY_KEY"\n'
    )
    env = {"SESSIOND_CONFIG": str(toml), "SESSIOND_PORT": "7000", "MY_KEY": "secret"}
    loaded = config_module.load(env)
    assert loaded.port == 7000  # env beats the file
    assert loaded.host == "127.0.0.2"  # the file beats the default
    assert loaded.db_path == Path("data/sessiond.db")
    assert loaded.agents["gpt"].api_key == "secret"
    assert "secret" not in repr(loaded)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSIOND_PORT": "not-a-port"}, "invalid value for port"),
        ({"SESSIOND_PORT": "70000"}, "port out of range"),
        ({"SESSIOND_SQLITE_SYNCHRONOUS": "OFF"}, "NORMAL or FULL"),
    ],
)
def test_bad_config_is_reported(env: dict[str, str], message: str) -> None:
    with pytest.raises(config_module.ConfigError, match=message):
        config_module.load(env)


def test_cli_exits_2_on_bad_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SESSIOND_PORT", "nope")
    assert cli_main(["serve", "--db", str(tmp_path / "x.db")]) == 2
    assert "invalid value for port" in capsys.readouterr().err
