"""Agent backends; concrete ones are chosen in server.py."""

from sessiond.agents.base import (
    AgentBackend,
    AgentError,
    AgentEvent,
    AgentRequest,
    TextDelta,
    ThinkingDelta,
    ToolEnd,
    ToolStart,
    ToolUpdate,
    UsageReport,
)

__all__ = [
    "AgentBackend",
    "AgentError",
    "AgentEvent",
    "AgentRequest",
    "TextDelta",
    "ThinkingDelta",
    "ToolEnd",
    "ToolStart",
    "ToolUpdate",
    "UsageReport",
]
