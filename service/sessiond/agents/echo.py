"""The offline default backend: streams the user's message back in chunks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from operator import attrgetter

from sessiond.agents.base import AgentEvent, AgentRequest, TextDelta, UsageReport
from sessiond.domain.models import Role, Usage
from sessiond.domain.tokens import estimate_tokens, tokens_of_length

SUMMARY_MAX_CHARS = 400

_TEXT = attrgetter("text")


class EchoBackend:
    models: tuple[str, ...] = ()
    """Any: the echo ignores the model."""

    def __init__(self, chunk_chars: int = 8, delay_ms: int = 0) -> None:
        if chunk_chars < 1:
            raise ValueError("chunk_chars must be at least 1")
        self.chunk_chars = chunk_chars
        self.delay_s = delay_ms / 1000

    async def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]:
        prompt = next((m.text for m in reversed(request.transcript) if m.role is Role.USER), "")
        for start in range(0, len(prompt), self.chunk_chars):
            # Without a delay this still yields to the loop once a chunk, as a backend
            # reading a network stream does: a long reply does not hold the loop, and other
            # runs and streams go on between its chunks.
            await asyncio.sleep(self.delay_s)
            yield TextDelta(prompt[start : start + self.chunk_chars])
        # One estimate over the whole context (not one per entry): it is read at every reply.
        context = tokens_of_length(sum(map(len, map(_TEXT, request.transcript))))
        output = estimate_tokens(prompt)
        yield UsageReport(
            Usage(
                input_tokens=context,
                output_tokens=output,
                total_tokens=context + output,
                context_tokens=context + output,
            )
        )

    async def close(self) -> None:
        return None

    async def summarize(self, request: AgentRequest) -> str:
        """Deterministic, offline: the first words of each message, in order."""
        parts = [
            f"{m.role.value}: {' '.join(m.text.split()[:3])}"
            for m in request.transcript
            if m.text.strip()
        ]
        summary = "Summary: " + " | ".join(parts)
        return (
            summary if len(summary) <= SUMMARY_MAX_CHARS else summary[: SUMMARY_MAX_CHARS - 1] + "…"
        )
