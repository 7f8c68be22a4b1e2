"""Core's policies built from the config: tenants' limits, the periodic cleanup's
policy, and the label sets of the tenant usage metrics."""

from __future__ import annotations

from dataclasses import asdict

from sessiond.config import Config
from sessiond.core.limits import TenantLimits, TenantPolicy
from sessiond.core.maintenance.retention import CleanupPolicy
from sessiond.domain.tenants import DEFAULT_TENANT
from sessiond.telemetry.metrics import UsageLabels


def tenant_limits(config: Config) -> TenantLimits:
    # The config's fields are the policy's: a field added to one and not the other fails here.
    return TenantLimits(
        {tenant_id: TenantPolicy(**asdict(tenant)) for tenant_id, tenant in config.tenants.items()}
    )


def cleanup_policy(config: Config) -> CleanupPolicy:
    return CleanupPolicy(
        max_age_ms=int(config.cleanup_max_age_s * 1000),
        max_count=config.cleanup_max_count,
        archive_max_age_ms=int(config.cleanup_archive_max_age_s * 1000),
    )


def usage_labels(config: Config) -> UsageLabels:
    """Tenants configured or named by tokens; each agent's declared models."""
    tenants = {DEFAULT_TENANT, *config.tenants, *(t.tenant for t in config.auth.tokens)}
    models = {
        agent_id: frozenset({agent.model, *agent.allowed_models, *agent.prices} - {""})
        for agent_id, agent in config.agents.items()
    }
    return UsageLabels(frozenset(tenants), models)
