"""How core finds an agent's backend and settings (built from the config at wiring)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sessiond.agents.base import AgentBackend
from sessiond.domain.errors import UnknownAgent
from sessiond.domain.models import Usage


@dataclass(frozen=True, slots=True)
class AgentSpec:
    backend: AgentBackend
    model: str = ""
    system_prompt: str = ""
    price_input_per_mtok: float = 0.0
    price_output_per_mtok: float = 0.0

    def cost(self, usage: Usage) -> float:
        return (
            usage.input_tokens * self.price_input_per_mtok
            + usage.output_tokens * self.price_output_per_mtok
        ) / 1_000_000


class AgentDirectory:
    def __init__(self, agents: Mapping[str, AgentSpec]) -> None:
        self._agents = dict(agents)

    def get(self, agent_id: str) -> AgentSpec:
        spec = self._agents.get(agent_id)
        if spec is None:
            raise UnknownAgent(agent_id)
        return spec

    async def close(self) -> None:
        for spec in self._agents.values():
            await spec.backend.close()
