"""The AgentBackend contract.

`stream(request)` returns an async iterator of agent events for one reply:
text and thinking deltas, tool start/update/end, and usage. The iterator ending is the
reply's normal end. A failure is raised as `AgentError` with an `error_kind`
(`rate_limit`, `timeout`, `context_length`, `refusal`, `unknown`).

Tool calls: a call is open from `ToolStart` to `ToolEnd`. `ToolStart` comes as soon as
the call's id and name are known, with the arguments known so far (often none: a
streaming provider sends them next, as `ToolUpdate.input` pieces). `ToolEnd` closes the
call, its arguments then complete: with the tool's result when the provider ran it, or
with `result=None` when nobody will (an OpenAI-style provider asks the caller to run the
tool; sessiond does not). A call still open when the reply stops is closed by the caller.

Cancellation: the caller cancels the task consuming the iterator (abort, steer, timeout,
shutdown) and then closes the iterator; a backend must release its resources (HTTP
streams) in `finally` and must not swallow `CancelledError`. Backends are stateless
between calls and safe to use from many runs at once. They never execute tools:
they report the calls and results their provider makes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from sessiond.domain.models import Attachment, Message, Usage


@dataclass(frozen=True, slots=True)
class AgentRequest:
    agent_id: str
    model: str
    system_prompt: str
    transcript: tuple[Message, ...]
    """The transcript so far, ending with the user message of this run."""
    thinking_level: str = ""
    """off|minimal|low|medium|high|xhigh|adaptive ("" unset): how hard the model should
    think, for models that take a reasoning effort; the run's override wins."""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ToolStart:
    tool_call_id: str
    name: str
    input: str = ""
    """The call's arguments (JSON text) as far as known when it starts."""


@dataclass(frozen=True, slots=True)
class ToolUpdate:
    tool_call_id: str
    text: str = ""
    """Progress of the call's result (a partial result)."""
    input: str = ""
    """The next piece of the call's arguments, appended to those before."""


@dataclass(frozen=True, slots=True)
class ToolEnd:
    tool_call_id: str
    result: str | None = None
    """The tool's result; None when the call ends unanswered (nobody ran the tool)."""
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class UsageReport:
    usage: Usage


AgentEvent = TextDelta | ThinkingDelta | ToolStart | ToolUpdate | ToolEnd | UsageReport

ERROR_KINDS = frozenset({"rate_limit", "timeout", "context_length", "refusal", "unknown"})


class AgentError(Exception):
    def __init__(self, message: str, kind: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind if kind in ERROR_KINDS else "unknown"


class AgentBackend(Protocol):
    @property
    def models(self) -> tuple[str, ...]:
        """The models this backend serves (a session may choose only these); empty: any."""
        ...

    def stream(self, request: AgentRequest) -> AsyncIterator[AgentEvent]: ...

    async def summarize(self, request: AgentRequest) -> str:
        """A summary of `request.transcript`, for compaction (not streamed)."""
        ...

    async def close(self) -> None:
        """Releases connections; called once at shutdown."""
        ...
