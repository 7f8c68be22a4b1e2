"""Tenants' quotas: counted in the transaction that admits a session or a run.

A write that creates a session or a run first counts what its tenant holds, in the same
transaction: on a store whose writes are serialisable (SQLite's single writer, the
PostgreSQL store's writers' lock) two replicas cannot both take the last place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sessiond.domain.errors import QuotaExceeded
from sessiond.domain.models import RunStatus
from sessiond.domain.tenants import tenant_of_namespace
from sessiond.store.base import ReadTx

MINUTE_MS = 60_000
CONCURRENT_RETRY_MS = 1_000
"""RetryInfo of `max_concurrent_runs`: runs end at any time; try again shortly."""


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """One tenant's limits (`[tenants.<id>]`); 0 means no limit."""

    max_sessions: int = 0
    max_runs_per_minute: int = 0
    max_concurrent_runs: int = 0
    max_queued_runs: int = 0
    daily_cost_usd: float = 0.0
    monthly_cost_usd: float = 0.0
    daily_tokens: int = 0
    monthly_tokens: int = 0
    abort_policy: str = ""
    """`owner`, `tenant`, or "" for each agent's own."""

    @property
    def has_budget(self) -> bool:
        return bool(
            self.daily_cost_usd or self.monthly_cost_usd or self.daily_tokens or self.monthly_tokens
        )


NO_LIMITS = TenantPolicy()


class TenantLimits:
    """Every tenant's policy (a tenant without one has no limits), and the quota checks."""

    def __init__(self, policies: Mapping[str, TenantPolicy] | None = None) -> None:
        self.policies = dict(policies or {})

    def policy(self, namespace: str) -> TenantPolicy:
        return self.policies.get(tenant_of_namespace(namespace), NO_LIMITS)

    def admit_session(self, tx: ReadTx, namespace: str) -> None:
        """Raises QUOTA_EXCEEDED when the namespace holds `max_sessions` already."""
        limit = self.policy(namespace).max_sessions
        if limit and tx.count_sessions(namespace) >= limit:
            raise QuotaExceeded("max_sessions", limit, tenant_of_namespace(namespace))

    def admit_run(self, tx: ReadTx, namespace: str, *, starts: bool, now: int) -> None:
        """Raises QUOTA_EXCEEDED when a run that starts now (`starts`) or waits in a queue
        would exceed one of the namespace's run quotas."""
        policy = self.policy(namespace)
        tenant = tenant_of_namespace(namespace)
        per_minute = policy.max_runs_per_minute
        if per_minute:
            window = tx.runs_created_since(namespace, now - MINUTE_MS + 1)
            if window.count >= per_minute:
                # The oldest run of the window leaves it first, freeing a place.
                wait = max(1, window.oldest_created_at + MINUTE_MS - now)
                raise QuotaExceeded("max_runs_per_minute", per_minute, tenant, wait)
        concurrent = policy.max_concurrent_runs
        if (
            starts
            and concurrent
            and tx.count_namespace_runs(namespace, RunStatus.RUNNING) >= concurrent
        ):
            raise QuotaExceeded("max_concurrent_runs", concurrent, tenant, CONCURRENT_RETRY_MS)
        queued = policy.max_queued_runs
        if not starts and queued and tx.count_namespace_runs(namespace, RunStatus.QUEUED) >= queued:
            raise QuotaExceeded("max_queued_runs", queued, tenant)
