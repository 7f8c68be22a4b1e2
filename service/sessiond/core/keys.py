"""Session key canonicalisation (DESIGN "Rules carried over")."""

from __future__ import annotations

import uuid

from sessiond.domain.errors import InvalidArgument
from sessiond.domain.tenants import canonical_of

MAX_KEY_CHARS = 512
# Keys that are not scoped to an agent.
UNSCOPED_KEYS = frozenset({"global", "unknown"})


def canonical_key(raw: str, default_agent: str, field: str = "key") -> str:
    """Trimmed, lower-cased, agent-scoped.

    `main` → `agent:<default>:main`, `foo` → `agent:<default>:foo`; `global` stays.
    """
    key = raw.strip().lower()
    if not key:
        raise InvalidArgument(field, "key required")
    if len(key) > MAX_KEY_CHARS:
        raise InvalidArgument(field, f"key longer than {MAX_KEY_CHARS} characters")
    if "\x00" in key:
        raise InvalidArgument(field, "key contains a NUL byte")
    if key in UNSCOPED_KEYS:
        return key
    if key.startswith("agent:"):
        parts = key.split(":", 2)
        if len(parts) < 3 or not parts[1].strip() or not parts[2].strip():
            raise InvalidArgument(field, "key must look like agent:<agent_id>:<name>")
        return key
    return f"agent:{default_agent}:{key}"


def key_agent(key: str) -> str | None:
    """The agent a canonical key is scoped to; None for `global` and `unknown`."""
    if key.startswith("agent:"):
        return key.split(":", 2)[1]
    return None


def stored_key_agent(stored_key: str) -> str | None:
    """The agent a stored key (its tenant's namespace in front) is scoped to."""
    return key_agent(canonical_of(stored_key))


def main_key(agent_id: str) -> str:
    return f"agent:{agent_id}:main"


def dashboard_key(agent_id: str) -> str:
    return f"agent:{agent_id}:dashboard:{uuid.uuid4()}"
