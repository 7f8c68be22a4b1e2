"""`sessiond` command line: `serve` runs the server, `health` probes one (containers)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2
from sessiond import config as config_module
from sessiond import config_checks, eventloop
from sessiond.client import cli as client_cli
from sessiond.eventloop import EVENT_LOOPS
from sessiond.logging_setup import configure
from sessiond.server import serve

# Flag -> dotted setting (see config.ENV_FIELDS for the env vars).
SERVE_FLAGS: dict[str, str] = {
    "host": "host",
    "port": "port",
    "db": "db_path",
    "insecure": "insecure",
    "tokens_file": "auth.tokens_file",
    "tls_cert": "tls.cert_file",
    "tls_key": "tls.key_file",
    "tls_client_ca": "tls.client_ca_file",
    "metrics_port": "metrics_port",
    "drain_ms": "drain_ms",
    "grace_s": "grace_s",
    "tracing": "tracing",
    "event_loop": "event_loop",
}


def _serve_parser(commands: Any) -> None:
    run = commands.add_parser("serve", help="run the gRPC server")
    run.add_argument("--host", help="address to bind [SESSIOND_HOST, 127.0.0.1]")
    run.add_argument("--port", type=int, help="port to bind [SESSIOND_PORT, 50051]")
    run.add_argument("--db", help="SQLite file [SESSIOND_DB, ./data/sessiond.db]")
    run.add_argument("--config", help="TOML config file [SESSIOND_CONFIG]")
    run.add_argument(
        "--insecure",
        action="store_true",
        default=None,
        help="allow a non-loopback address without auth tokens [SESSIOND_INSECURE]",
    )
    run.add_argument("--tokens-file", help="TOML file of [[tokens]] [SESSIOND_TOKENS_FILE]")
    run.add_argument("--tls-cert", help="PEM certificate chain [SESSIOND_TLS_CERT]")
    run.add_argument("--tls-key", help="PEM private key [SESSIOND_TLS_KEY]")
    run.add_argument(
        "--tls-client-ca",
        help="PEM CA; clients need a certificate it signed [SESSIOND_TLS_CLIENT_CA]",
    )
    run.add_argument(
        "--metrics-port", type=int, help="Prometheus /metrics port [SESSIOND_METRICS_PORT, off]"
    )
    run.add_argument("--drain-ms", type=int, help="NOT_SERVING before stopping [SESSIOND_DRAIN_MS]")
    run.add_argument("--grace-s", type=float, help="shutdown grace [SESSIOND_GRACE_S, 10]")
    run.add_argument(
        "--tracing",
        action="store_true",
        default=None,
        help="OpenTelemetry tracing over OTLP [SESSIOND_TRACING]",
    )
    run.add_argument(
        "--event-loop",
        choices=EVENT_LOOPS,
        help="asyncio event loop [SESSIOND_EVENT_LOOP, uvloop]",
    )


def _health_parser(commands: Any) -> None:
    probe = commands.add_parser(
        "health", help="exit 0 when a server reports SERVING (container health checks)"
    )
    probe.add_argument("--target", help="host:port [127.0.0.1:$SESSIOND_PORT]")
    probe.add_argument("--service", default="", help="service name ['' = the whole server]")
    probe.add_argument("--timeout", type=float, default=3.0, help="seconds [3]")
    probe.add_argument("--tls-ca", help="verify the server with this CA (TLS)")
    probe.add_argument("--tls-cert", help="client certificate (mTLS)")
    probe.add_argument("--tls-key", help="client key (mTLS)")
    probe.add_argument("--server-name", help="name to verify in the server certificate")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sessiond", description="AI-agent chat sessions over gRPC"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _serve_parser(commands)
    _health_parser(commands)
    client_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "health":
        return asyncio.run(probe(args))
    if args.command in client_cli.COMMANDS:
        return client_cli.run(args)
    overrides = {setting: getattr(args, flag) for flag, setting in SERVE_FLAGS.items()}
    try:
        config = config_module.load(config_file=args.config, overrides=overrides)
        problem = config_checks.exposure_problem(config)
        if problem:
            raise config_module.ConfigError(problem)
    except config_module.ConfigError as exc:
        print(f"sessiond: {exc}", file=sys.stderr)
        return 2
    configure(config.log_format, config.log_level)
    try:
        eventloop.run(serve(config), config.event_loop)
    except config_module.ConfigError as exc:
        print(f"sessiond: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"sessiond: {exc}", file=sys.stderr)
        return 1
    return 0


def _channel(args: argparse.Namespace, target: str) -> grpc.aio.Channel:
    if not args.tls_ca:
        return grpc.aio.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=Path(args.tls_ca).read_bytes(),
        private_key=Path(args.tls_key).read_bytes() if args.tls_key else None,
        certificate_chain=Path(args.tls_cert).read_bytes() if args.tls_cert else None,
    )
    options = [("grpc.ssl_target_name_override", args.server_name)] if args.server_name else []
    return grpc.aio.secure_channel(target, credentials, options=options)


async def probe(args: argparse.Namespace) -> int:
    """grpc.health.v1 Check: 0 when SERVING, 1 otherwise (NOT_SERVING, unreachable)."""
    target = args.target
    if not target:
        try:
            target = f"127.0.0.1:{config_module.load().port}"
        except config_module.ConfigError as exc:
            print(f"sessiond: {exc}", file=sys.stderr)
            return 2
    async with _channel(args, target) as channel:
        # By path: the HealthStub type stubs do not declare Check.
        check = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        try:
            reply: health_pb2.HealthCheckResponse = await check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.aio.AioRpcError as exc:
            print(f"sessiond health: {exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    print(status)
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1


if __name__ == "__main__":
    sys.exit(main())
