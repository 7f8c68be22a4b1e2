"""Budgets in cost and tokens: a session's (`budget_cost_usd`, `budget_tokens`, against its
`usage`) and its tenant's per UTC day and calendar month (against the usage ledger, which
every run's end adds to in the transaction recording it, on any replica).

A Send while a budget is spent is refused (FAILED_PRECONDITION `BUDGET_EXCEEDED`, checked
in the Send's write). A run starts with what is left of every budget that applies and is
stopped with stop reason `budget` once its usage crosses it: the usage the backend
reported, or until it does (most report only at the end) an estimate from the request
and the reply so far (`domain.tokens`), priced as the run's model. Runs of one tenant
executing at once each start from what was left when they started, so together they may
overshoot by what they spend concurrently; the next Send is then refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sessiond.core.limits import TenantLimits
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import BudgetExceeded
from sessiond.domain.models import Session, Usage, day_of
from sessiond.domain.tenants import namespace_of
from sessiond.store.base import ReadTx, Store


def month_start(ts: int) -> int:
    """The start of the UTC calendar month holding `ts`."""
    day = dt.datetime.fromtimestamp(ts / 1000, dt.UTC)
    first = dt.datetime(day.year, day.month, 1, tzinfo=dt.UTC)
    return int(first.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class Limit:
    """One budget: its name (`session_tokens`, `daily_cost_usd`, …), limit and spending."""

    name: str
    limit: float
    spent: float

    @property
    def left(self) -> float:
        return self.limit - self.spent

    def error(self) -> BudgetExceeded:
        return BudgetExceeded(self.name, _figure(self.limit), _figure(self.spent))


def _figure(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6f}".rstrip("0")


@dataclass(frozen=True, slots=True)
class Allowance:
    """What a run may spend: the tightest of the budgets that apply, in each measure."""

    tokens: Limit | None = None
    cost: Limit | None = None

    def crossed(self, used: Usage) -> Limit | None:
        """The budget `used` (the run's usage so far) went past, if any."""
        if self.tokens is not None and used.total_tokens > self.tokens.left:
            return self.tokens
        if self.cost is not None and used.estimated_cost_usd > self.cost.left:
            return self.cost
        return None


def _tightest(limits: list[Limit]) -> Limit | None:
    return min(limits, key=lambda limit: limit.left, default=None)


class Budgets:
    def __init__(self, limits: TenantLimits) -> None:
        self.limits = limits

    def limits_of(self, tx: ReadTx, session: Session, now: int) -> tuple[list[Limit], list[Limit]]:
        """The budgets that apply to a run of `session`: (in tokens, in cost)."""
        usage = session.usage
        tokens: list[Limit] = []
        cost: list[Limit] = []
        if session.budget_tokens:
            tokens.append(Limit("session_tokens", session.budget_tokens, usage.total_tokens))
        if session.budget_cost_usd:
            cost.append(
                Limit("session_cost_usd", session.budget_cost_usd, usage.estimated_cost_usd)
            )
        space = namespace_of(session.key)
        policy = self.limits.policy(space)
        if not policy.has_budget:
            return tokens, cost
        for period, since in (("daily", day_of(now)), ("monthly", month_start(now))):
            token_limit = getattr(policy, f"{period}_tokens")
            cost_limit = getattr(policy, f"{period}_cost_usd")
            if not (token_limit or cost_limit):
                continue
            spent = tx.usage_total(space, since)
            if token_limit:
                tokens.append(Limit(f"{period}_tokens", token_limit, spent.total_tokens))
            if cost_limit:
                cost.append(Limit(f"{period}_cost_usd", cost_limit, spent.estimated_cost_usd))
        return tokens, cost

    def apply_to(self, session: Session) -> bool:
        """Whether any budget applies to the session's runs (no read needed to tell)."""
        return bool(
            session.budget_tokens
            or session.budget_cost_usd
            or self.limits.policy(namespace_of(session.key)).has_budget
        )

    async def read_allowance(self, store: Store, session: Session | None) -> Allowance | None:
        """What a run of `session` starting now may spend, read when it starts; None when
        no budget applies (then nothing is read)."""
        if session is None or not self.apply_to(session):
            return None
        return await store.read(lambda tx: self.allowance(tx, session, now_ms()))

    def allowance(self, tx: ReadTx, session: Session, now: int) -> Allowance | None:
        """What a run of `session` starting now may spend; None when no budget applies."""
        tokens, cost = self.limits_of(tx, session, now)
        if not tokens and not cost:
            return None
        return Allowance(_tightest(tokens), _tightest(cost))

    def check(self, tx: ReadTx, session: Session, now: int) -> None:
        """Raises BUDGET_EXCEEDED when a budget of `session` is spent (at or over)."""
        tokens, cost = self.limits_of(tx, session, now)
        for limit in (*tokens, *cost):
            if limit.left <= 0:
                raise limit.error()


class BudgetCrossed(Exception):
    """A run's usage went past what it may spend (`limit`): it stops with `budget`."""

    def __init__(self, limit: Limit) -> None:
        super().__init__(limit.name)
        self.limit = limit


def charge(allowance: Allowance | None, used: Usage) -> None:
    """Raises BudgetCrossed when `used` goes past `allowance`."""
    if allowance is None:
        return
    crossed = allowance.crossed(used)
    if crossed is not None:
        raise BudgetCrossed(crossed)
