"""`[tenants.<id>]` tables and the tenant settings of tokens and agents: read strictly (an
unknown key, a wrong type or a negative limit fails the load, naming the setting)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Any

from sessiond.domain.tenants import TENANT_ID
from sessiond.settings import AgentConfig, TenantConfig, TokenConfig

ABORT_POLICIES = ("owner", "tenant")


class TenantConfigError(ValueError):
    """A tenant setting is invalid (config.ConfigError derives its message from it)."""


def _number(where: str, name: str, value: Any, kind: type) -> int | float:
    # bool is an int subclass: `max_sessions = true` is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TenantConfigError(f"{where}: {name} must be a number")
    if kind is int and not isinstance(value, int):
        raise TenantConfigError(f"{where}: {name} must be a whole number")
    if value < 0:
        raise TenantConfigError(f"{where}: {name} must not be negative")
    return kind(value)  # type: ignore[no-any-return]


def tenant_from_toml(tenant_id: str, values: Any) -> TenantConfig:
    where = f"tenants.{tenant_id}"
    if not isinstance(values, Mapping):
        raise TenantConfigError(f"{where} must be a table")
    kinds = {f.name: f.type for f in fields(TenantConfig)}
    unknown = set(values) - set(kinds)
    if unknown:
        raise TenantConfigError(f"unknown settings for {where}: {sorted(unknown)}")
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if name == "abort_policy":
            checked[name] = abort_policy(where, value, allow_empty=True)
        else:
            checked[name] = _number(where, name, value, int if kinds[name] == "int" else float)
    return TenantConfig(**checked)


def tenants_from_toml(table: Any) -> dict[str, TenantConfig]:
    if not isinstance(table, Mapping):
        raise TenantConfigError("[tenants] must hold [tenants.<id>] tables")
    return {tenant_id: tenant_from_toml(tenant_id, values) for tenant_id, values in table.items()}


def abort_policy(where: str, value: Any, *, allow_empty: bool = False) -> str:
    allowed = (*ABORT_POLICIES, "") if allow_empty else ABORT_POLICIES
    if value not in allowed:
        raise TenantConfigError(f"{where}: abort_policy must be owner or tenant")
    return str(value)


def tenant_id(where: str, value: Any) -> str:
    if not isinstance(value, str) or not TENANT_ID.fullmatch(value):
        raise TenantConfigError(
            f"{where}: tenant ids are 1-63 lower-case letters, digits, '_' or '-'"
            " (starting with a letter or digit)"
        )
    return value


def validate(
    tenants: Mapping[str, TenantConfig],
    tokens: Iterable[TokenConfig],
    agents: Mapping[str, AgentConfig],
) -> None:
    for name, tenant in tenants.items():
        tenant_id(f"tenants.{name}", name)
        abort_policy(f"tenants.{name}", tenant.abort_policy, allow_empty=True)
        for item in fields(TenantConfig):
            value = getattr(tenant, item.name)
            if item.name != "abort_policy" and value < 0:
                raise TenantConfigError(f"tenants.{name}: {item.name} must not be negative")
    for token in tokens:
        where = f"token {token.name!r}"
        tenant_id(where, token.tenant)
        if not isinstance(token.all_tenants, bool):
            raise TenantConfigError(f"{where}: all_tenants must be true or false")
        if token.all_tenants and "admin" not in token.scopes:
            raise TenantConfigError(f"{where}: all_tenants needs the admin scope")
    for agent_id, agent in agents.items():
        abort_policy(f"agent {agent_id}", agent.abort_policy)
