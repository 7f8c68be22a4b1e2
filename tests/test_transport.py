"""Mesh settings: how they are configured, what reaches gRPC, and the limits enforced."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from conftest import ServerHandle
from helpers import StreamReader, assert_eventually, expect_error
from sessiond import config as config_module
from sessiond.config import Config
from sessiond.transport import channel_options
from sessiond.v1 import chat_service_pb2 as cpb
from sessiond.v1 import chat_service_pb2_grpc, session_service_pb2_grpc
from sessiond.v1 import session_service_pb2 as spb


def test_defaults_reach_the_channel_options() -> None:
    options = dict(channel_options(Config()))
    assert options["grpc.keepalive_time_ms"] == 60_000
    assert options["grpc.keepalive_timeout_ms"] == 20_000
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.http2.min_ping_interval_without_data_ms"] == 10_000
    assert options["grpc.max_connection_idle_ms"] == 300_000
    assert options["grpc.max_connection_age_ms"] == 1_800_000
    assert options["grpc.max_connection_age_grace_ms"] == 60_000
    assert options["grpc.max_receive_message_length"] == 16 * 1024 * 1024
    assert options["grpc.max_send_message_length"] == 64 * 1024 * 1024
    assert options["grpc.so_reuseport"] == 0


def test_zero_means_never_for_connection_limits() -> None:
    config = Config()
    never = replace(config, transport=replace(config.transport, max_connection_age_ms=0))
    assert "grpc.max_connection_age_ms" not in dict(channel_options(never))


def test_transport_settings_from_toml_env_and_flags(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text(
        "[server]\ndrain_ms = 100\nmetrics_port = 9100\n"
        "[transport]\nkeepalive_time_ms = 30000\nkeepalive_permit_without_calls = false\n"
        '[tls]\ncert_file = "c.pem"\nkey_file = "k.pem"\n'
    )
    env = {
        "SESSIOND_CONFIG": str(toml),
        "SESSIOND_KEEPALIVE_TIME_MS": "45000",
        "SESSIOND_MAX_CONCURRENT_RPCS": "7",
        "SESSIOND_INSECURE": "yes",
        "SESSIOND_GRACE_S": "2.5",
    }
    loaded = config_module.load(env, overrides={"drain_ms": 250, "metrics_port": None})
    assert loaded.transport.keepalive_time_ms == 45_000  # env beats the file
    assert loaded.transport.keepalive_permit_without_calls is False
    assert loaded.transport.max_concurrent_rpcs == 7
    assert loaded.insecure is True
    assert loaded.grace_s == 2.5
    assert loaded.drain_ms == 250  # a flag beats both
    assert loaded.metrics_port == 9100  # an unset flag changes nothing
    assert loaded.tls.cert_file == Path("c.pem")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SESSIOND_INSECURE": "maybe"}, "invalid value for insecure"),
        ({"SESSIOND_KEEPALIVE_TIME_MS": "-1"}, "transport.keepalive_time_ms must not be negative"),
        ({"SESSIOND_TLS_CERT": "c.pem"}, "must be set together"),
        ({"SESSIOND_TLS_CLIENT_CA": "ca.pem"}, "needs tls.cert_file"),
        ({"SESSIOND_METRICS_PORT": "70000"}, "metrics_port out of range"),
    ],
)
def test_bad_serving_settings_are_reported(env: dict[str, str], message: str) -> None:
    with pytest.raises(config_module.ConfigError, match=message):
        config_module.load(env)


def test_unknown_toml_keys_are_errors(tmp_path: Path) -> None:
    toml = tmp_path / "sessiond.toml"
    toml.write_text("[transport]\nkeepalive_tme_ms = 1\n")
    with pytest.raises(config_module.ConfigError, match=r"unknown \[transport\] settings"):
        config_module.load({"SESSIOND_CONFIG": str(toml)})


@pytest.fixture
def config(config: Config) -> Config:
    return replace(config, transport=replace(config.transport, max_concurrent_rpcs=2))


async def test_max_concurrent_rpcs_rejects_calls_beyond_the_limit(
    server: ServerHandle,
    sessions: session_service_pb2_grpc.SessionServiceStub,
) -> None:
    await sessions.CreateSession(spb.CreateSessionRequest(key="replayed"))
    # Two open streams, each known to be running on the server (it replayed the session).
    first = StreamReader[object](sessions.WatchSessions(spb.WatchSessionsRequest()))
    second = StreamReader[object](sessions.WatchSessions(spb.WatchSessionsRequest()))
    async with first, second:
        await first.next()
        await second.next()
        async with grpc.aio.insecure_channel(server.target) as other:
            stub = session_service_pb2_grpc.SessionServiceStub(other)
            await expect_error(
                stub.GetSession(spb.GetSessionRequest(key="x")), grpc.StatusCode.RESOURCE_EXHAUSTED
            )

    async def below_the_limit_again() -> None:  # once the cancelled streams are gone
        await expect_error(
            sessions.GetSession(spb.GetSessionRequest(key="x")), grpc.StatusCode.NOT_FOUND
        )

    await assert_eventually(below_the_limit_again)


async def test_requests_over_the_receive_limit_are_refused(
    chat: chat_service_pb2_grpc.ChatServiceStub,
) -> None:
    too_big = cpb.SendRequest(session_key="big", text="x" * (17 * 1024 * 1024))
    await expect_error(chat.Send(too_big), grpc.StatusCode.RESOURCE_EXHAUSTED)
