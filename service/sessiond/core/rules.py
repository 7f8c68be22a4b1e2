"""The agent settings core needs to validate sessions (built from the config at wiring)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sessiond.core.keys import canonical_key, key_agent
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import InvalidArgument, UnknownAgent


@dataclass(frozen=True, slots=True)
class AgentRules:
    model: str = ""
    model_provider: str = ""
    models: tuple[str, ...] = ()
    """The models the agent's backend serves; empty: any."""
    abort_policy: str = "tenant"
    """Who may Abort or Steer a run: `tenant` (any writer of the tenant) or `owner` (the
    token that started it, and admin tokens)."""


@dataclass(frozen=True, slots=True)
class SessionRules:
    default_agent: str = "main"
    agents: dict[str, AgentRules] = field(default_factory=lambda: {"main": AgentRules()})

    def agent(self, agent_id: str, field: str = "agent_id") -> tuple[str, AgentRules]:
        """The configured agent for `agent_id` (empty: the default), or UNKNOWN_AGENT."""
        name = agent_id.strip().lower() or self.default_agent
        rules = self.agents.get(name)
        if rules is None:
            raise UnknownAgent(name, field)
        return name, rules

    def key(self, raw: str, field: str = "key") -> str:
        return canonical_key(raw, self.default_agent, field)

    def stored_key(
        self, caller: Caller, raw: str, field: str = "key", *, write: bool = False
    ) -> str:
        """The stored key of what `caller` names (`Caller.key` over `key`)."""
        return caller.key(raw, lambda public: self.key(public, field), field, write=write)

    def key_for_agent(self, raw: str, agent_id: str, field: str = "key") -> str:
        """Canonical key scoped to `agent_id`: a bare key or `main` becomes agent:<id>:<key>."""
        key = canonical_key(raw, agent_id, field)
        owner = key_agent(key)
        if owner is not None and owner != agent_id:
            raise InvalidArgument(field, f"key belongs to agent {owner!r}, not {agent_id!r}")
        return key
