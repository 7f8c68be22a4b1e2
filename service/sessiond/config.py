"""Configuration: defaults, then the TOML file, then SESSIOND_* env vars, then CLI flags.

This is the one module that reads the environment.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """One agent, `[agents.<id>]` in the TOML config."""

    backend: str = "echo"
    """`echo` (offline, default) or `openai` (any OpenAI-compatible endpoint)."""
    model: str = ""
    """Default model of the agent's sessions."""
    base_url: str = ""
    """Endpoint of the `openai` backend."""
    api_key_env: str = ""
    """Name of the environment variable holding the API key."""
    system_prompt: str = ""
    """System prompt sent before the transcript."""
    price_input_per_mtok: float = 0.0
    """US dollars per million input tokens, for cost estimates."""
    price_output_per_mtok: float = 0.0
    """US dollars per million output tokens."""
    allowed_models: tuple[str, ...] = ()
    """When set, sessions may only choose these models."""
    request_timeout_s: float = 600.0
    """Timeout of one request to the `openai` backend's endpoint."""
    api_key: str = field(default="", repr=False)
    """Resolved from `api_key_env` when the config is loaded; never logged."""


def _default_agents() -> dict[str, AgentConfig]:
    return {"main": AgentConfig()}


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    """Address to bind (`SESSIOND_HOST`, `--host`)."""
    port: int = 50051
    """Port to bind; 0 picks a free one (`SESSIOND_PORT`, `--port`)."""
    db_path: Path = Path("data/sessiond.db")
    """SQLite database file (`SESSIOND_DB`, `--db`)."""
    sqlite_synchronous: str = "NORMAL"
    """SQLite `synchronous` pragma: NORMAL or FULL (`SESSIOND_SQLITE_SYNCHRONOUS`)."""
    default_agent: str = "main"
    """Agent of keys without an agent scope."""
    agents: dict[str, AgentConfig] = field(default_factory=_default_agents)
    """Configured agents by id."""
    delta_interval_ms: int = 150
    """Live deltas of a run are coalesced and sent at most this often."""
    heartbeat_ms: int = 15000
    """Idle chat streams get a heartbeat event this often."""
    run_timeout_ms: int = 600_000
    """Default run timeout; a run past it stops with stop reason `timeout`."""
    silent_token: str = "NO_REPLY"
    """A reply that is exactly this text is silent: no deltas, a final without message."""
    echo_chunk_chars: int = 8
    """Characters per delta of the echo backend."""
    echo_delay_ms: int = 20
    """Delay before each echo delta (0 streams as fast as possible)."""
    subscriber_max_pending: int = 1024
    """Events a stream may lag behind before it is ended with RESOURCE_EXHAUSTED."""
    auto_compact_tokens: int = 0
    """Compact a session (summarising) after a run when its context exceeds this; 0 = off."""
    cleanup_interval_s: float = 0.0
    """Apply the cleanup policy below this often; 0 = no periodic sweep (the default)."""
    cleanup_max_age_s: float = 0.0
    """Periodic sweep: remove sessions not updated for this long (0 = any age)."""
    cleanup_max_count: int = 0
    """Periodic sweep: keep at most this many sessions per agent (0 = no cap)."""
    cleanup_archive_max_age_s: float = 0.0
    """Periodic sweep: drop archived transcripts older than this (0 = keep all)."""
    grace_s: float = 10.0
    """Seconds in-flight calls get to finish on shutdown (`SESSIOND_GRACE_S`)."""
    max_receive_message_bytes: int = 16 * 1024 * 1024
    """Largest request accepted."""
    max_send_message_bytes: int = 64 * 1024 * 1024
    """Largest response sent (long transcripts come whole)."""
    log_format: str = "json"
    """`json` or `console` (`SESSIOND_LOG_FORMAT`)."""
    log_level: str = "info"
    """Minimum log level (`SESSIOND_LOG_LEVEL`)."""


ENV_FIELDS: dict[str, str] = {
    "SESSIOND_HOST": "host",
    "SESSIOND_PORT": "port",
    "SESSIOND_DB": "db_path",
    "SESSIOND_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "SESSIOND_GRACE_S": "grace_s",
    "SESSIOND_DELTA_INTERVAL_MS": "delta_interval_ms",
    "SESSIOND_HEARTBEAT_MS": "heartbeat_ms",
    "SESSIOND_RUN_TIMEOUT_MS": "run_timeout_ms",
    "SESSIOND_SILENT_TOKEN": "silent_token",
    "SESSIOND_ECHO_CHUNK_CHARS": "echo_chunk_chars",
    "SESSIOND_ECHO_DELAY_MS": "echo_delay_ms",
    "SESSIOND_SUBSCRIBER_MAX_PENDING": "subscriber_max_pending",
    "SESSIOND_AUTO_COMPACT_TOKENS": "auto_compact_tokens",
    "SESSIOND_CLEANUP_INTERVAL_S": "cleanup_interval_s",
    "SESSIOND_CLEANUP_MAX_AGE_S": "cleanup_max_age_s",
    "SESSIOND_CLEANUP_MAX_COUNT": "cleanup_max_count",
    "SESSIOND_CLEANUP_ARCHIVE_MAX_AGE_S": "cleanup_archive_max_age_s",
    "SESSIOND_LOG_FORMAT": "log_format",
    "SESSIOND_LOG_LEVEL": "log_level",
}


class ConfigError(ValueError):
    """The configuration is invalid; the message says which setting."""


def _coerce(name: str, value: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Config)}
    kind = kinds[name]
    try:
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid value for {name}: {value!r}") from exc


def _agents_from_toml(table: Mapping[str, Any]) -> dict[str, AgentConfig]:
    known = {f.name for f in fields(AgentConfig)}
    agents: dict[str, AgentConfig] = {}
    for agent_id, values in table.items():
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown settings for agent {agent_id}: {sorted(unknown)}")
        if "allowed_models" in values:
            values = {**values, "allowed_models": tuple(values["allowed_models"])}
        agents[agent_id.lower()] = AgentConfig(**values)
    return agents


def from_toml(path: Path, base: Config) -> Config:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    server = dict(data.get("server", {}))
    changes = {
        name: _coerce(name, value) for name, value in server.items() if name in ENV_FIELDS.values()
    }
    unknown = set(server) - set(ENV_FIELDS.values()) - {"default_agent"}
    if unknown:
        raise ConfigError(f"unknown [server] settings: {sorted(unknown)}")
    if "default_agent" in server:
        changes["default_agent"] = str(server["default_agent"]).lower()
    if "agents" in data:
        changes["agents"] = _agents_from_toml(data["agents"])
    return replace(base, **changes)


def from_env(environ: Mapping[str, str], base: Config) -> Config:
    changes = {
        name: _coerce(name, environ[var]) for var, name in ENV_FIELDS.items() if var in environ
    }
    return replace(base, **changes)


def load(environ: Mapping[str, str] | None = None, config_file: str | None = None) -> Config:
    """Defaults < TOML file (`SESSIOND_CONFIG` or `config_file`) < SESSIOND_* env vars."""
    env = os.environ if environ is None else environ
    config = Config()
    path = config_file or env.get("SESSIOND_CONFIG")
    if path:
        config = from_toml(Path(path), config)
    config = from_env(env, config)
    config = with_api_keys(config, env)
    validate(config)
    return config


def with_api_keys(config: Config, environ: Mapping[str, str]) -> Config:
    """Reads each agent's API key from the variable its `api_key_env` names."""
    agents = {
        agent_id: replace(agent, api_key=environ.get(agent.api_key_env, ""))
        if agent.api_key_env
        else agent
        for agent_id, agent in config.agents.items()
    }
    return replace(config, agents=agents)


def validate(config: Config) -> None:
    if config.default_agent not in config.agents:
        raise ConfigError(f"default_agent {config.default_agent!r} is not among [agents]")
    if not 0 <= config.port <= 65535:
        raise ConfigError(f"port out of range: {config.port}")
    if config.sqlite_synchronous not in ("NORMAL", "FULL"):
        raise ConfigError("sqlite_synchronous must be NORMAL or FULL")
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
    ):
        if getattr(config, name) < 0:
            raise ConfigError(f"{name} must not be negative")
    if config.echo_chunk_chars < 1 or config.subscriber_max_pending < 1:
        raise ConfigError("echo_chunk_chars and subscriber_max_pending must be at least 1")
    for agent_id, agent in config.agents.items():
        if agent.backend not in ("echo", "openai"):
            raise ConfigError(f"agent {agent_id}: backend must be echo or openai")
