"""Who may stop a run (Abort, Steer, an interrupting Send): its `abort_policy`.

`tenant` (the default): any token of the session's tenant with the write scope. `owner`:
only the token that started the run (`Run.started_by`), or a token with the admin scope.
A tenant's `abort_policy`, when set, overrides the agent's: the agent sets the rule for
its sessions, a tenant may set its own for all of its sessions. Without auth every caller
is the same nobody, so `owner` allows everything.
"""

from __future__ import annotations

from sessiond.core.keys import stored_key_agent
from sessiond.core.limits import TenantLimits
from sessiond.core.rules import SessionRules
from sessiond.core.tenancy import Caller
from sessiond.domain.errors import NotRunOwner
from sessiond.domain.models import Run
from sessiond.domain.tenants import namespace_of

OWNER = "owner"


class AbortPolicies:
    def __init__(self, rules: SessionRules, limits: TenantLimits) -> None:
        self.rules = rules
        self.limits = limits

    def policy(self, session_key: str) -> str:
        """The abort policy of a stored session key: its tenant's, else its agent's."""
        tenant = self.limits.policy(namespace_of(session_key)).abort_policy
        if tenant:
            return tenant
        agent_id = stored_key_agent(session_key) or self.rules.default_agent
        agent = self.rules.agents.get(agent_id)
        return agent.abort_policy if agent is not None else "tenant"

    def may_stop(self, caller: Caller, run: Run) -> bool:
        if caller.admin or run.started_by == caller.name:
            return True
        return self.policy(run.session_key) != OWNER

    def check(self, caller: Caller, run: Run) -> None:
        """Raises PERMISSION_DENIED `NOT_RUN_OWNER` unless `caller` may stop `run`."""
        if not self.may_stop(caller, run):
            raise NotRunOwner(run.run_id)
