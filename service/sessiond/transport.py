"""How the gRPC server meets the network: channel options, TLS, binding.

The defaults and their reasons are documented on `settings.TransportConfig` and in
docs/operations.md ("Mesh settings").
"""

from __future__ import annotations

from pathlib import Path

import grpc
from sessiond.config import ConfigError
from sessiond.settings import Config, TLSConfig


def channel_options(config: Config) -> list[tuple[str, int]]:
    transport = config.transport
    options = [
        ("grpc.keepalive_time_ms", transport.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", transport.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", int(transport.keepalive_permit_without_calls)),
        ("grpc.http2.min_ping_interval_without_data_ms", transport.min_ping_interval_ms),
        ("grpc.http2.max_ping_strikes", transport.max_ping_strikes),
        ("grpc.max_receive_message_length", transport.max_receive_message_bytes),
        ("grpc.max_send_message_length", transport.max_send_message_bytes),
        # Two servers on one port would split calls between processes at random.
        ("grpc.so_reuseport", 0),
    ]
    # 0 means "never": leave gRPC's own default (infinite) in place.
    for name, value in (
        ("grpc.max_connection_idle_ms", transport.max_connection_idle_ms),
        ("grpc.max_connection_age_ms", transport.max_connection_age_ms),
        ("grpc.max_connection_age_grace_ms", transport.max_connection_age_grace_ms),
    ):
        if value:
            options.append((name, value))
    return options


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the TLS {what} {path}: {exc.strerror}") from exc


def server_credentials(tls: TLSConfig) -> grpc.ServerCredentials | None:
    """TLS credentials, requiring client certificates when a client CA is set; None = plaintext."""
    if tls.cert_file is None or tls.key_file is None:
        return None
    chain = _read(tls.cert_file, "certificate")
    key = _read(tls.key_file, "key")
    client_ca = _read(tls.client_ca_file, "client CA") if tls.client_ca_file else None
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def bind(server: grpc.aio.Server, config: Config) -> int:
    """Adds the listening port; returns the port number (the free one picked for 0)."""
    address = f"{config.host}:{config.port}"
    credentials = server_credentials(config.tls)
    if credentials is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, credentials)
    if port == 0:
        raise OSError(f"cannot bind {address}")
    return port
