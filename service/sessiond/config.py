"""Configuration: defaults, then the TOML file, then SESSIOND_* env vars, then CLI flags.

This is the one module that reads the environment (and the files it names: the TOML
config and the tokens file). Every setting has one dotted name (`port`, `tls.cert_file`,
`transport.keepalive_time_ms`) used by the TOML tables, the env table and the CLI.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from sessiond import access_config
from sessiond.config_checks import validate
from sessiond.settings import (
    AgentConfig,
    AuthConfig,
    BusConfig,
    Config,
    ConfigError,
    ModelPrice,
    TenantConfig,
    TLSConfig,
    TokenConfig,
    TransportConfig,
)

__all__ = [
    "AgentConfig",
    "AuthConfig",
    "BusConfig",
    "Config",
    "ConfigError",
    "ModelPrice",
    "TLSConfig",
    "TenantConfig",
    "TokenConfig",
    "TransportConfig",
    "load",
    "validate",
]


# Env var -> dotted setting. The TOML tables accept the same names ([server] host, [tls]
# cert_file, ...); flags are mapped in cli.py.
ENV_FIELDS: dict[str, str] = {
    "SESSIOND_HOST": "host",
    "SESSIOND_PORT": "port",
    "SESSIOND_DB": "db_path",
    "SESSIOND_DATABASE_URL": "database_url",
    "SESSIOND_SQLITE_SYNCHRONOUS": "sqlite_synchronous",
    "SESSIOND_STORE_READERS": "store_readers",
    "SESSIOND_GRACE_S": "grace_s",
    "SESSIOND_DRAIN_MS": "drain_ms",
    "SESSIOND_DELTA_INTERVAL_MS": "delta_interval_ms",
    "SESSIOND_HEARTBEAT_MS": "heartbeat_ms",
    "SESSIOND_RUN_TIMEOUT_MS": "run_timeout_ms",
    "SESSIOND_SILENT_TOKEN": "silent_token",
    "SESSIOND_ECHO_CHUNK_CHARS": "echo_chunk_chars",
    "SESSIOND_ECHO_DELAY_MS": "echo_delay_ms",
    "SESSIOND_SUBSCRIBER_MAX_PENDING": "subscriber_max_pending",
    "SESSIOND_MAX_QUEUED_RUNS": "max_queued_runs",
    "SESSIOND_RUN_LEASE_MS": "run_lease_ms",
    "SESSIOND_RUN_LEASE_RENEW_MS": "run_lease_renew_ms",
    "SESSIOND_AUTO_COMPACT_TOKENS": "auto_compact_tokens",
    "SESSIOND_CLEANUP_INTERVAL_S": "cleanup_interval_s",
    "SESSIOND_CLEANUP_MAX_AGE_S": "cleanup_max_age_s",
    "SESSIOND_CLEANUP_MAX_COUNT": "cleanup_max_count",
    "SESSIOND_CLEANUP_ARCHIVE_MAX_AGE_S": "cleanup_archive_max_age_s",
    "SESSIOND_EVENT_RETENTION_S": "event_retention_s",
    "SESSIOND_INSECURE": "insecure",
    "SESSIOND_METRICS_PORT": "metrics_port",
    "SESSIOND_METRICS_HOST": "metrics_host",
    "SESSIOND_TRACING": "tracing",
    "SESSIOND_OTLP_ENDPOINT": "otlp_endpoint",
    "SESSIOND_LOG_FORMAT": "log_format",
    "SESSIOND_LOG_LEVEL": "log_level",
    "SESSIOND_EVENT_LOOP": "event_loop",
    "SESSIOND_NATS_URL": "bus.nats_url",
    "SESSIOND_NATS_SUBJECT_PREFIX": "bus.subject_prefix",
    "SESSIOND_TLS_CERT": "tls.cert_file",
    "SESSIOND_TLS_KEY": "tls.key_file",
    "SESSIOND_TLS_CLIENT_CA": "tls.client_ca_file",
    "SESSIOND_TOKENS_FILE": "auth.tokens_file",
    **{f"SESSIOND_{f.name.upper()}": f"transport.{f.name}" for f in fields(TransportConfig)},
}
_SECTIONS: dict[str, type[Any]] = {
    "bus": BusConfig,
    "tls": TLSConfig,
    "transport": TransportConfig,
}
_TOP_LEVEL = {name for name in ENV_FIELDS.values() if "." not in name} | {"default_agent"}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _field_type(path: str) -> str:
    section, _, name = path.rpartition(".")
    cls = _SECTIONS.get(section, Config) if section else Config
    kinds = {f.name: f.type for f in fields(cls)}
    if section == "auth":
        kinds = {"tokens_file": "Path | None"}
    return str(kinds[name])


def _coerce(path: str, value: Any) -> Any:
    kind = _field_type(path)
    try:
        if kind.endswith("| None"):
            if value is None or value == "":
                return None
            kind = kind.removesuffix(" | None")
        if kind == "bool":
            return _boolean(value)
        if kind == "int":
            return int(value)
        if kind == "float":
            return float(value)
        if kind == "Path":
            return Path(value)
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid value for {path}: {value!r}") from exc


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(value)


def apply(config: Config, changes: Mapping[str, Any]) -> Config:
    """`config` with dotted settings (`port`, `tls.cert_file`) set from raw values."""
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for path, value in changes.items():
        section, _, name = path.rpartition(".")
        coerced = _coerce(path, value)
        if section:
            nested.setdefault(section, {})[name] = coerced
        else:
            top[name] = coerced
    for section, values in nested.items():
        top[section] = replace(getattr(config, section), **values)
    return replace(config, **top)


def _agents_from_toml(table: Mapping[str, Any]) -> dict[str, AgentConfig]:
    known = {f.name for f in fields(AgentConfig)}
    agents: dict[str, AgentConfig] = {}
    for agent_id, values in table.items():
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown settings for agent {agent_id}: {sorted(unknown)}")
        if "allowed_models" in values:
            values = {**values, "allowed_models": tuple(values["allowed_models"])}
        if "prices" in values:
            values = {**values, "prices": _prices_from_toml(agent_id, values["prices"])}
        agents[agent_id.lower()] = AgentConfig(**values)
    return agents


def _prices_from_toml(agent_id: str, table: Any) -> dict[str, ModelPrice]:
    """`[agents.<id>.prices."<model>"]` tables of `input_per_mtok` / `output_per_mtok`."""
    known = {f.name for f in fields(ModelPrice)}
    prices: dict[str, ModelPrice] = {}
    for model, values in dict(table).items():
        if not isinstance(values, Mapping) or set(values) - known:
            raise ConfigError(
                f"agent {agent_id}: prices.{model} takes input_per_mtok and output_per_mtok"
            )
        price = ModelPrice(**{name: float(value) for name, value in values.items()})
        if price.input_per_mtok < 0 or price.output_per_mtok < 0:
            raise ConfigError(f"agent {agent_id}: prices.{model} must not be negative")
        prices[model] = price
    return prices


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _table_changes(data: Mapping[str, Any]) -> dict[str, Any]:
    server = dict(data.get("server", {}))
    unknown = set(server) - _TOP_LEVEL
    if unknown:
        raise ConfigError(f"unknown [server] settings: {sorted(unknown)}")
    changes = {name: value for name, value in server.items() if name != "default_agent"}
    for section, cls in _SECTIONS.items():
        table = dict(data.get(section, {}))
        unknown = set(table) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown [{section}] settings: {sorted(unknown)}")
        changes |= {f"{section}.{name}": value for name, value in table.items()}
    auth = dict(data.get("auth", {}))
    unknown = set(auth) - {"tokens", "tokens_file"}
    if unknown:
        raise ConfigError(f"unknown [auth] settings: {sorted(unknown)}")
    if "tokens_file" in auth:
        changes["auth.tokens_file"] = auth["tokens_file"]
    return changes


def from_toml(path: Path, base: Config) -> Config:
    data = _read_toml(path)
    config = apply(base, _table_changes(data))
    server = data.get("server", {})
    if "default_agent" in server:
        config = replace(config, default_agent=str(server["default_agent"]).lower())
    if "agents" in data:
        config = replace(config, agents=_agents_from_toml(data["agents"]))
    if "tenants" in data:
        config = replace(config, tenants=access_config.tenants_from_toml(data["tenants"]))
    tokens = data.get("auth", {}).get("tokens")
    if tokens is not None:
        auth = replace(config.auth, tokens=access_config.tokens_from_toml(tokens, f"{path} [auth]"))
        config = replace(config, auth=auth)
    return config


def from_env(environ: Mapping[str, str], base: Config) -> Config:
    return apply(base, {path: environ[var] for var, path in ENV_FIELDS.items() if var in environ})


def load(
    environ: Mapping[str, str] | None = None,
    config_file: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults < TOML file (`SESSIOND_CONFIG` or `config_file`) < SESSIOND_* env vars <
    `overrides` (flags, dotted names); then secrets are resolved and all is validated."""
    env = os.environ if environ is None else environ
    config = Config()
    path = config_file or env.get("SESSIOND_CONFIG")
    if path:
        config = from_toml(Path(path), config)
    config = from_env(env, config)
    config = apply(config, {k: v for k, v in (overrides or {}).items() if v is not None})
    config = with_api_keys(config, env)
    config = with_tokens_file(config)
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


def with_tokens_file(config: Config) -> Config:
    """Adds the tokens of `auth.tokens_file` to those of the config file."""
    path = config.auth.tokens_file
    if path is None:
        return config
    extra = access_config.tokens_from_toml(_read_toml(path).get("tokens", []), str(path))
    return replace(config, auth=replace(config.auth, tokens=(*config.auth.tokens, *extra)))
