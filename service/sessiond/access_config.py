"""Who may call and what each tenant may use: bearer tokens (`[[tokens]]`), `[tenants.<id>]`
tables, and agents' abort policy. Read strictly: an unknown key, a wrong type or a
negative limit fails the load, naming the setting (never a token's secret)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from sessiond.domain.tenants import DEFAULT_TENANT, TENANT_ID
from sessiond.settings import AgentConfig, ConfigError, TenantConfig, TokenConfig

ABORT_POLICIES = ("owner", "tenant")
SCOPES = ("read", "write", "admin")
MIN_TOKEN_CHARS = 16


def _number(where: str, name: str, value: Any, kind: type) -> int | float:
    # bool is an int subclass: `max_sessions = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where}: {name} must be a number")
    if kind is int and not isinstance(value, int):
        raise ConfigError(f"{where}: {name} must be a whole number")
    if value < 0:
        raise ConfigError(f"{where}: {name} must not be negative")
    return kind(value)  # type: ignore[no-any-return]


def tenant_from_toml(tenant_id: str, values: Any) -> TenantConfig:
    where = f"tenants.{tenant_id}"
    if not isinstance(values, Mapping):
        raise ConfigError(f"{where} must be a table")
    kinds = {f.name: f.type for f in fields(TenantConfig)}
    unknown = set(values) - set(kinds)
    if unknown:
        raise ConfigError(f"unknown settings for {where}: {sorted(unknown)}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "abort_policy":
            checked[name] = abort_policy(where, value, allow_empty=True)
        else:
            checked[name] = _number(where, name, value, int if kinds[name] == "int" else float)
    return TenantConfig(**checked)


def tenants_from_toml(table: Any) -> dict[str, TenantConfig]:
    if not isinstance(table, Mapping):
        raise ConfigError("[tenants] must hold [tenants.<id>] tables")
    return {tenant_id: tenant_from_toml(tenant_id, values) for tenant_id, values in table.items()}


def abort_policy(where: str, value: Any, *, allow_empty: bool = False) -> str:
    allowed = (*ABORT_POLICIES, "") if allow_empty else ABORT_POLICIES
    if value not in allowed:
        raise ConfigError(f"{where}: abort_policy must be owner or tenant")
    return str(value)


def tenant_id(where: str, value: Any) -> str:
    if not isinstance(value, str) or not TENANT_ID.fullmatch(value):
        raise ConfigError(
            f"{where}: tenant ids are 1-63 lower-case letters, digits, '_' or '-'"
            " (starting with a letter or digit)"
        )
    return value


def validate(
    tenants: Mapping[str, TenantConfig],
    tokens: tuple[TokenConfig, ...],
    agents: Mapping[str, AgentConfig],
) -> None:
    validate_tokens(tokens)
    for name, tenant in tenants.items():
        tenant_id(f"tenants.{name}", name)
        abort_policy(f"tenants.{name}", tenant.abort_policy, allow_empty=True)
        for item in fields(TenantConfig):
            value = getattr(tenant, item.name)
            if item.name != "abort_policy" and value < 0:
                raise ConfigError(f"tenants.{name}: {item.name} must not be negative")
    for token in tokens:
        where = f"token {token.name!r}"
        tenant_id(where, token.tenant)
        if not isinstance(token.all_tenants, bool):
            raise ConfigError(f"{where}: all_tenants must be true or false")
        if token.all_tenants and "admin" not in token.scopes:
            raise ConfigError(f"{where}: all_tenants needs the admin scope")
    for agent_id, agent in agents.items():
        abort_policy(f"agent {agent_id}", agent.abort_policy)


_TOKEN_KEYS = {"token", "scopes", "scope", "name", "tenant", "all_tenants"}


def tokens_from_toml(entries: Any, where: str) -> tuple[TokenConfig, ...]:
    """`[[tokens]]` tables: `token`, `scopes` (list) or `scope`, optional `name`, `tenant`
    and `all_tenants`."""
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: tokens must be a list of tables")
    tokens = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
            raise ConfigError(f"{where}: token #{index + 1} needs a string `token`")
        unknown = set(entry) - _TOKEN_KEYS
        if unknown:
            raise ConfigError(f"{where}: token #{index + 1}: unknown keys {sorted(unknown)}")
        if not isinstance(entry.get("all_tenants", False), bool):
            raise ConfigError(f"{where}: token #{index + 1}: all_tenants must be true or false")
        scopes = entry.get("scopes", [entry["scope"]] if "scope" in entry else ["read"])
        name = str(entry.get("name") or f"token-{index + 1}")
        tenant = entry.get("tenant", DEFAULT_TENANT)
        tokens.append(
            TokenConfig(
                entry["token"],
                tuple(map(str, scopes)),
                name,
                tenant=tenant if isinstance(tenant, str) else repr(tenant),
                all_tenants=entry.get("all_tenants", False),
            )
        )
    return tuple(tokens)


def validate_tokens(tokens: tuple[TokenConfig, ...]) -> None:
    seen: set[str] = set()
    for token in tokens:
        # The message names the holder, never the secret.
        if len(token.token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"token {token.name!r} is shorter than {MIN_TOKEN_CHARS} characters")
        if not token.scopes or set(token.scopes) - set(SCOPES):
            raise ConfigError(f"token {token.name!r}: scopes must be among {list(SCOPES)}")
        if token.token in seen:
            raise ConfigError(f"token {token.name!r} is configured twice")
        seen.add(token.token)
