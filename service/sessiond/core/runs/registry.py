"""Runs executing in this process: their tasks, stop requests and the reply so far."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from sessiond.core.runs.shaping import DeltaShaper
from sessiond.domain.models import StopReason, Usage
from sessiond.domain.tokens import tokens_of_length


@dataclass
class OpenCall:
    """A tool call between its START and END."""

    name: str
    arguments: DeltaShaper
    """Its arguments so far; the released part went out in START and UPDATE events."""


@dataclass
class ActiveRun:
    run_id: str
    session_key: str
    shaper: DeltaShaper
    thinking: DeltaShaper
    """The thinking so far; released as deltas only when `reasoning_level` is `stream`."""
    task: asyncio.Task[None] | None = None
    stop_reason: StopReason | None = None
    finishing: bool = False
    """Set once the reply has ended and its outcome is being recorded: too late to stop."""
    done: asyncio.Event = field(default_factory=asyncio.Event)
    open_tools: dict[str, OpenCall] = field(default_factory=dict)
    """Calls started and not yet ended, by tool_call_id."""
    reasoning_level: str = ""
    """The session's, once the run read it: `stream` streams thinking deltas; `on` and
    `stream` keep the thinking in the transcript; `off` (or unset) neither."""
    model: str = ""
    """The model its request asked for (known once the request is built)."""
    request_tokens: int = 0
    """Estimate of the request (transcript and system prompt): its input tokens."""
    tool_chars: int = 0
    """Characters of tool-call arguments the agent streamed."""
    reported: Usage | None = None
    """The usage the backend reported, once it did."""
    price: Callable[[Usage], float] | None = None
    """What a usage of its model costs."""

    def usage_so_far(self) -> Usage:
        """The usage reported, or until then an estimate: the request, and the reply,
        thinking and tool arguments streamed so far (`domain.tokens`)."""
        if self.reported is not None:
            return self.reported
        chars = len(self.shaper.text) + len(self.thinking.text) + self.tool_chars
        output = tokens_of_length(chars)
        usage = Usage(self.request_tokens, output, self.request_tokens + output)
        if self.price is None:
            return usage
        return Usage(usage.input_tokens, output, usage.total_tokens, 0, self.price(usage))

    @property
    def streams_thinking(self) -> bool:
        return self.reasoning_level == "stream"

    @property
    def keeps_thinking(self) -> bool:
        return self.reasoning_level in ("on", "stream")

    def seconds_until_due(self) -> float | None:
        """Time until some pending text (reply, thinking, tool arguments) may be released;
        None when nothing is pending."""
        if not self.open_tools and not self.streams_thinking:
            return self.shaper.seconds_until_due()  # the common case, at every event
        waits = [self.shaper.seconds_until_due()]
        if self.streams_thinking:
            waits.append(self.thinking.seconds_until_due())
        waits.extend(call.arguments.seconds_until_due() for call in self.open_tools.values())
        return min((wait for wait in waits if wait is not None), default=None)

    def request_stop(self, reason: StopReason) -> bool:
        """Asks the run to stop; False when it is already stopping or finished."""
        if self.stop_reason or self.finishing or self.done.is_set() or self.task is None:
            return False
        self.stop_reason = reason
        self.task.cancel()
        return True


CLOSED_MEMORY = 1024


class RunRegistry:
    def __init__(self) -> None:
        self._runs: dict[str, ActiveRun] = {}
        self._closed: dict[str, None] = {}
        """Runs whose end was recorded before they were launched here (insertion order)."""

    def closed_before_launch(self, run_id: str) -> None:
        """A run committed RUNNING was stopped (its end recorded directly) before its writer
        launched it: the launch, still to come, must not execute it."""
        if len(self._closed) >= CLOSED_MEMORY:
            del self._closed[next(iter(self._closed))]
        self._closed[run_id] = None

    def take_closed(self, run_id: str) -> bool:
        """True (once) when the run was closed before its launch."""
        if run_id not in self._closed:
            return False
        del self._closed[run_id]
        return True

    def add(self, run: ActiveRun) -> None:
        self._runs[run.run_id] = run

    def get(self, run_id: str) -> ActiveRun | None:
        return self._runs.get(run_id)

    def remove(self, run_id: str) -> None:
        self._runs.pop(run_id, None)

    def for_session(self, session_key: str) -> ActiveRun | None:
        return next((r for r in self._runs.values() if r.session_key == session_key), None)

    def all(self) -> list[ActiveRun]:
        return list(self._runs.values())

    def __len__(self) -> int:
        return len(self._runs)
