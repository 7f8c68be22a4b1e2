"""What the domain tells observers (metrics, tracing) about runs, without knowing them.

`RunExecutor` calls a `RunObserver`; the wiring in `server.py` passes one that feeds
Prometheus (`sessiond.telemetry.metrics`). Core stays free of any metrics library.

Contract: the calls are synchronous and made on the event loop, so an implementation must
be quick and must not block or raise (the executor does not guard against it). Each
`run_started` is followed by exactly one `run_ended` for the same `run_id`, also when the
run is stopped (abort, steer, timeout, shutdown) or fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sessiond.core.keys import stored_key_agent
from sessiond.domain.models import StopReason, Usage
from sessiond.domain.tenants import tenant_of


@dataclass(frozen=True, slots=True)
class RunReport:
    """How one run ended."""

    run_id: str
    session_key: str
    stop_reason: StopReason
    duration_s: float
    """From launch to the end being recorded (monotonic clock)."""
    usage: Usage = field(default_factory=Usage)
    """Tokens and estimated cost the backend reported (for a stopped run, an estimate of
    what its request and partial reply used)."""
    model: str = ""
    """The model its request asked for ("" when it stopped before building one)."""

    @property
    def agent_id(self) -> str:
        """The agent of the run's session key ("" for unscoped keys such as `global`)."""
        return stored_key_agent(self.session_key) or ""

    @property
    def tenant(self) -> str:
        return tenant_of(self.session_key)


class RunObserver(Protocol):
    def run_started(self, run_id: str, session_key: str) -> None:
        """A run began executing in this process."""

    def run_ended(self, report: RunReport) -> None:
        """A run this process executed has ended and its end is recorded (or failed to be)."""


class NoRunObserver:
    """The default: observes nothing."""

    def run_started(self, run_id: str, session_key: str) -> None:
        pass

    def run_ended(self, report: RunReport) -> None:
        pass
