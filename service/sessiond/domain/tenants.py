"""How a tenant's data is told apart in storage: a namespace prefix on session keys.

A canonical session key starts with `agent:` or is exactly `global` or `unknown`
(`core/keys.py`), so a stored key `tenant:<tenant_id>:<canonical key>` never collides
with a canonical one. The default tenant's keys are stored as they are (its namespace is
""): a database written before tenants existed is the default tenant's data unchanged.
Every record that names a session key (sessions, runs, transcripts, checkpoints, events,
leases) belongs to the namespace of that key.

Stores use `namespace_of` to keep labels unique per tenant and to filter by tenant; the
mapping between what a client sends and what is stored is `core/tenancy.py`'s.
"""

from __future__ import annotations

import re

DEFAULT_TENANT = "default"
"""The tenant of tokens configured without one, and of every call when auth is off."""
TENANT_KEY_PREFIX = "tenant:"
TENANT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
"""Tenant ids: lower-case letters, digits, `_` and `-`, at most 63 characters (never a
`:`, so a stored key's namespace ends at its second colon)."""


def namespace(tenant: str) -> str:
    """The key prefix of `tenant`'s stored keys: "" for the default tenant."""
    return "" if tenant == DEFAULT_TENANT else f"{TENANT_KEY_PREFIX}{tenant}:"


def namespace_of(stored_key: str) -> str:
    """The namespace a stored key belongs to ("" for the default tenant's keys)."""
    if not stored_key.startswith(TENANT_KEY_PREFIX):
        return ""
    end = stored_key.find(":", len(TENANT_KEY_PREFIX))
    return stored_key[: end + 1] if end > len(TENANT_KEY_PREFIX) else ""


def tenant_of_namespace(space: str) -> str:
    """The tenant id of a namespace ("" is the default tenant's)."""
    if not space:
        return DEFAULT_TENANT
    return space[len(TENANT_KEY_PREFIX) : -1]


def tenant_of(stored_key: str) -> str:
    return tenant_of_namespace(namespace_of(stored_key))


def in_namespace(stored_key: str, space: str | None) -> bool:
    """Whether a stored key is in `space`; None stands for every namespace."""
    return space is None or namespace_of(stored_key) == space


def canonical_of(stored_key: str) -> str:
    """A stored key without its namespace: the canonical key within its tenant."""
    return stored_key[len(namespace_of(stored_key)) :]
