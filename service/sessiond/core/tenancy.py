"""Who calls, and how the keys a client names map to the keys stored for its tenant.

Every core operation receives the `Caller`. A caller sees and changes its own tenant's
data only: the keys it sends are stored under its tenant's namespace
(`domain/tenants.py`; none for the default tenant), and every key it gets back is
public again (the api layer converts with `public_key`). Data of another tenant is
absent for it: found by key or by a global id (run, transcript, checkpoint), it is
NOT_FOUND exactly as a missing one, so nothing tells that it exists.

An operator's token may read across tenants (`all_tenants`, with the admin scope): such
a caller names and sees keys as stored (`tenant:<id>:<key>`, or a bare canonical key for
the default tenant), so they are unambiguous. Its writes stay within its own tenant: a
write naming another tenant's key is PERMISSION_DENIED (an operator may know it exists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sessiond.domain.errors import InvalidArgument, PermissionDenied
from sessiond.domain.tenants import (
    DEFAULT_TENANT,
    TENANT_ID,
    TENANT_KEY_PREFIX,
    in_namespace,
    namespace,
    namespace_of,
    tenant_of_namespace,
)


class CrossTenantWrite(PermissionDenied):
    reason = "CROSS_TENANT_WRITE"

    def __init__(self, key: str, tenant: str) -> None:
        super().__init__(
            f"all_tenants reads across tenants only; {key} is not of tenant {tenant}",
            metadata={"key": key, "tenant": tenant},
        )


@dataclass(frozen=True, slots=True)
class Caller:
    tenant: str = DEFAULT_TENANT
    name: str = ""
    """The token's name ("" without auth): recorded as `started_by` on the runs it starts."""
    all_tenants: bool = False
    """Reads every tenant's data, naming and seeing keys as stored."""
    admin: bool = False
    """The token has the admin scope (it may stop runs others started)."""

    @property
    def namespace(self) -> str:
        """Where this caller's own sessions are stored ("" for the default tenant)."""
        return namespace(self.tenant)

    @property
    def scope(self) -> str | None:
        """The namespace its reads keep to; None (every one) for an all_tenants caller."""
        return None if self.all_tenants else namespace(self.tenant)

    def sees(self, stored_key: str) -> bool:
        """Whether a stored record of this key is visible to the caller."""
        return in_namespace(stored_key, self.scope)

    def owns(self, stored_key: str) -> bool:
        """Whether the key is of the caller's own tenant (may be changed by it)."""
        return namespace_of(stored_key) == self.namespace

    def public_key(self, stored_key: str) -> str:
        """The key as this caller sees it: without its namespace, or as stored for an
        all_tenants caller."""
        if self.all_tenants or not stored_key:
            return stored_key
        space = self.namespace
        return stored_key[len(space) :] if space and stored_key.startswith(space) else stored_key

    def stored_key(self, canonical_key: str) -> str:
        """A canonical key of the caller's own tenant, as stored."""
        return self.namespace + canonical_key

    def key(
        self,
        raw: str,
        canonical: Callable[[str], str],
        field: str = "key",
        *,
        write: bool = False,
    ) -> str:
        """The stored key a request names: `canonical` (e.g. `SessionRules.key`) applied to
        what the client wrote, in the caller's namespace; for an all_tenants caller, in
        the namespace the key names. `write`: the key must be of the caller's tenant."""
        space, public = self._split(raw, field)
        stored = space + canonical(public)
        if write and space != self.namespace:
            raise CrossTenantWrite(stored, self.tenant)
        return stored

    def _split(self, raw: str, field: str) -> tuple[str, str]:
        if not self.all_tenants:
            return self.namespace, raw
        text = raw.strip()
        if not text.lower().startswith(TENANT_KEY_PREFIX):
            return "", raw
        space = namespace_of(text.lower())
        tenant = tenant_of_namespace(space) if space else ""
        if not TENANT_ID.fullmatch(tenant):
            raise InvalidArgument(field, "a stored key looks like tenant:<tenant_id>:<key>")
        return space, text[len(space) :]

    def write_check(self, stored_key: str) -> None:
        """Refuses a change to another tenant's key (only an all_tenants caller can name
        one)."""
        if not self.owns(stored_key):
            raise CrossTenantWrite(stored_key, self.tenant)
