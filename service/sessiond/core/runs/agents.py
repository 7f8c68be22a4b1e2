"""How core finds an agent's backend and settings (built from the config at wiring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sessiond.agents.base import AgentBackend
from sessiond.domain.errors import UnknownAgent
from sessiond.domain.models import Usage
from sessiond.domain.tokens import DEFAULT_CONTEXT_TOKENS, estimate_tokens


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens."""

    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0

    def cost(self, usage: Usage) -> float:
        spent = usage.input_tokens * self.input_per_mtok
        spent += usage.output_tokens * self.output_per_mtok
        return spent / 1_000_000


@dataclass(frozen=True, slots=True)
class AgentSpec:
    backend: AgentBackend
    model: str = ""
    system_prompt: str = ""
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    """Token budget of a request, the system prompt included."""
    price: Price = field(default_factory=Price)
    """The agent's price: of its own model, and of any model `prices` does not list."""
    prices: Mapping[str, Price] = field(default_factory=dict)
    """Prices by model, for sessions whose model costs otherwise."""

    def cost(self, usage: Usage, model: str) -> float:
        """What `usage` of `model` cost."""
        return self.prices.get(model, self.price).cost(usage)

    @property
    def system_tokens(self) -> int:
        return estimate_tokens(self.system_prompt)

    @property
    def transcript_budget(self) -> int:
        """Tokens left for the transcript beside the system prompt."""
        return max(0, self.context_tokens - self.system_tokens)


class AgentDirectory:
    def __init__(self, agents: Mapping[str, AgentSpec]) -> None:
        self._agents = dict(agents)

    def transcript_budget(self, agent_id: str) -> int:
        """The agent's budget for the transcript; the default one for an agent no longer
        configured (its run fails later with UNKNOWN_AGENT, not while it is admitted)."""
        spec = self._agents.get(agent_id)
        return spec.transcript_budget if spec is not None else DEFAULT_CONTEXT_TOKENS

    def get(self, agent_id: str) -> AgentSpec:
        spec = self._agents.get(agent_id)
        if spec is None:
            raise UnknownAgent(agent_id)
        return spec

    async def close(self) -> None:
        for spec in self._agents.values():
            await spec.backend.close()
