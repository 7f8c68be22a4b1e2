"""Checking a configuration: every setting's range and the combinations that must not
serve. `sessiond.config` loads the settings and calls `validate` once they are layered.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import fields
from urllib.parse import urlsplit, urlunsplit

from sessiond import access_config
from sessiond.eventloop import EVENT_LOOPS
from sessiond.settings import (
    AgentConfig,
    BusConfig,
    Config,
    ConfigError,
    TLSConfig,
    TransportConfig,
)

POSTGRES_URL_PREFIXES = ("postgresql://", "postgres://")
"""A `database_url` with one of these selects the PostgreSQL store."""
MEMORY_URL = "memory:"
"""The `database_url` of the in-memory store."""
NATS_URL_SCHEMES = ("nats://", "tls://", "ws://", "wss://")
_SUBJECT_PREFIX = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def validate(config: Config) -> None:
    if config.default_agent not in config.agents:
        raise ConfigError(f"default_agent {config.default_agent!r} is not among [agents]")
    if not 0 <= config.port <= 65535:
        raise ConfigError(f"port out of range: {config.port}")
    if config.sqlite_synchronous not in ("NORMAL", "FULL"):
        raise ConfigError("sqlite_synchronous must be NORMAL or FULL")
    _validate_store(config)
    for name in (
        "delta_interval_ms",
        "heartbeat_ms",
        "run_timeout_ms",
        "echo_delay_ms",
        "auto_compact_tokens",
        "cleanup_interval_s",
        "cleanup_max_age_s",
        "cleanup_max_count",
        "cleanup_archive_max_age_s",
        "event_retention_s",
        "max_queued_runs",
    ):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    if not 0 < config.run_lease_renew_ms < config.run_lease_ms:
        raise ConfigError("run_lease_renew_ms must be positive and below run_lease_ms")
    if config.echo_chunk_chars < 1 or config.subscriber_max_pending < 1:
        raise ConfigError("echo_chunk_chars and subscriber_max_pending must be at least 1")
    for agent_id, agent in config.agents.items():
        if agent.backend not in ("echo", "openai"):
            raise ConfigError(f"agent {agent_id}: backend must be echo or openai")
        if not isinstance(agent.reasoning_effort, bool):
            raise ConfigError(f"agent {agent_id}: reasoning_effort must be true or false")
    if config.event_loop not in EVENT_LOOPS:
        raise ConfigError(f"event_loop must be one of {', '.join(EVENT_LOOPS)}")
    if config.drain_ms < 0 or config.grace_s < 0:
        raise ConfigError("drain_ms and grace_s must not be negative")
    if config.metrics_port is not None and not 0 <= config.metrics_port <= 65535:
        raise ConfigError(f"metrics_port out of range: {config.metrics_port}")
    for item in fields(TransportConfig):
        if getattr(config.transport, item.name) < 0:
            raise ConfigError(f"transport.{item.name} must not be negative")
    _validate_bus(config.bus)
    _validate_tls(config.tls)
    _validate_budgets(config.agents)
    access_config.validate(config.tenants, config.auth.tokens, config.agents)


def _validate_budgets(agents: Mapping[str, AgentConfig]) -> None:
    for agent_id, agent in agents.items():
        budget = agent.context_tokens
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ConfigError(f"agent {agent_id}: context_tokens must be a positive integer")


def unsupported_store_url(url: str) -> str | None:
    """Why `url` names no store, or None. The message does not repeat the URL, which may
    hold a password."""
    if not url or url == MEMORY_URL or url.startswith(POSTGRES_URL_PREFIXES):
        return None
    return (
        "database_url: unsupported store URL (use postgresql://…, "
        f"{MEMORY_URL} or leave it unset for SQLite at db_path)"
    )


def _validate_store(config: Config) -> None:
    # A mistyped URL must not quietly become a local SQLite file that one replica alone sees.
    problem = unsupported_store_url(config.database_url)
    if problem:
        raise ConfigError(problem)
    if config.store_readers < 1:
        raise ConfigError("store_readers must be at least 1")


def redacted_url(url: str) -> str:
    """`url` without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def _validate_bus(bus: BusConfig) -> None:
    # A mistyped URL must not quietly leave a replica on its own in-process bus.
    urls = [url.strip() for url in bus.nats_url.split(",")] if bus.nats_url else []
    if any(not url.startswith(NATS_URL_SCHEMES) for url in urls):
        raise ConfigError(
            "bus.nats_url must be nats:// (or tls://, ws://, wss://) URLs, comma-separated"
            " (SESSIOND_NATS_URL), or empty for the in-process bus"
        )
    if not _SUBJECT_PREFIX.fullmatch(bus.subject_prefix):
        raise ConfigError(
            "bus.subject_prefix must be dot-separated tokens of letters, digits, '-' and '_'"
        )


def _validate_tls(tls: TLSConfig) -> None:
    if (tls.cert_file is None) != (tls.key_file is None):
        raise ConfigError("tls.cert_file and tls.key_file must be set together")
    if tls.client_ca_file is not None and tls.cert_file is None:
        raise ConfigError("tls.client_ca_file (mTLS) needs tls.cert_file and tls.key_file")


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (localhost, 127/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name or wildcard: assume it is reachable from outside


def exposure_problem(config: Config) -> str | None:
    """Why the server must not start as configured, or None: auth off off-loopback."""
    if config.auth.tokens or config.insecure or is_loopback(config.host):
        return None
    return (
        f"refusing to serve on {config.host} without authentication: configure bearer "
        "tokens ([auth] tokens or SESSIOND_TOKENS_FILE), bind a loopback address, or pass "
        "--insecure (SESSIOND_INSECURE=1) if something else, such as a mesh, guards the port"
    )
