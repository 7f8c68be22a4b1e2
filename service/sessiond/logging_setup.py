"""structlog configuration: JSON lines (default) or a console renderer."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from structlog.typing import EventDict


class IsoUtcStamper:
    """Adds `timestamp` as structlog's `TimeStamper(fmt="iso", utc=True)` does
    (`2026-11-21T22:05:41.028268Z`), formatting the date and time once a second instead
    of building an aware datetime for every line (one access-log line per call)."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")
        """The last second formatted, and its text: one tuple, so threads read both."""

    def __call__(self, logger: Any, method: str, event_dict: EventDict) -> EventDict:
        now = time.time()
        second = int(now)
        cached, text = self._second
        if second != cached:
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        event_dict["timestamp"] = f"{text}.{int((now - second) * 1_000_000):06d}Z"
        return event_dict


def configure(log_format: str = "json", level: str = "info") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    console = log_format == "console"
    # JSON lines are rendered by orjson straight to bytes (structlog's fast path): the
    # access log writes one per call.
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer()
        if console
        else structlog.processors.JSONRenderer(serializer=orjson.dumps)
    )
    factory: Callable[..., Any] = (
        structlog.PrintLoggerFactory(file=sys.stderr)
        if console
        else structlog.BytesLoggerFactory(file=sys.stderr.buffer)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            IsoUtcStamper(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
