"""structlog configuration: JSON lines (default) or a console renderer."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson
import structlog


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
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=factory,
        cache_logger_on_first_use=True,
    )
