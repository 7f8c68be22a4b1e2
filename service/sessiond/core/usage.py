"""GetUsage: what runs used over a time range, from the usage ledger, grouped as asked.

The ledger keeps usage per tenant, agent, model and UTC hour (`UsageEntry`), added in the
transaction that records each run's end: a range covers whole hours, from the hour of its
start to the end of the hour holding its end.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from sessiond.core.tenancy import Caller
from sessiond.domain.clock import now_ms
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.models import HOUR_MS, Usage, UsageEntry, day_of, hour_of
from sessiond.domain.tenants import tenant_of_namespace
from sessiond.store.base import Store


class Grouping(enum.StrEnum):
    TENANT = "tenant"
    AGENT = "agent"
    MODEL = "model"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class UsageRow:
    """One group: the fields grouped by are set, the others empty (0 for `day`)."""

    tenant: str = ""
    agent_id: str = ""
    model: str = ""
    day: int = 0
    """Start of the UTC day, in milliseconds."""
    runs: int = 0
    usage: Usage = field(default_factory=Usage)


@dataclass(frozen=True, slots=True)
class UsageReport:
    rows: list[UsageRow]
    start: int
    """The first hour covered (ms)."""
    end: int
    """The end of the last hour covered (ms, exclusive)."""


def group(entries: Iterable[UsageEntry], by: frozenset[Grouping]) -> list[UsageRow]:
    """The entries summed per group, ordered by day, tenant, agent and model."""
    rows: dict[tuple[int, str, str, str], UsageRow] = {}
    for entry in entries:
        at = (
            day_of(entry.hour) if Grouping.DAY in by else 0,
            tenant_of_namespace(entry.namespace) if Grouping.TENANT in by else "",
            entry.agent_id if Grouping.AGENT in by else "",
            entry.model if Grouping.MODEL in by else "",
        )
        row = rows.get(at) or UsageRow(at[1], at[2], at[3], at[0])
        rows[at] = UsageRow(
            row.tenant,
            row.agent_id,
            row.model,
            row.day,
            row.runs + entry.runs,
            row.usage.plus(entry.usage),
        )
    return [rows[at] for at in sorted(rows)]


class UsageQueries:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def usage(
        self, caller: Caller, start: int | None, end: int | None, by: Iterable[Grouping]
    ) -> UsageReport:
        """The caller's tenant's usage (every tenant's for an all_tenants caller) from
        `start` (default: the start of today, UTC) to `end` (default: now)."""
        now = now_ms()
        first = hour_of(start if start is not None else day_of(now))
        last = end if end is not None else now
        if last < first:
            raise InvalidArgument("end_time", "end_time must not be before start_time")
        stop = hour_of(last + HOUR_MS - 1)  # the end of the hour holding `last`
        scope = caller.scope
        entries = await self.store.read(lambda tx: tx.usage_entries(scope, first, stop))
        return UsageReport(group(entries, frozenset(by)), first, stop)
