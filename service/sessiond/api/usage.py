"""SessionService.GetUsage: the usage ledger, grouped (core/usage.py)."""

from __future__ import annotations

from sessiond.api import convert
from sessiond.api.callers import current_caller
from sessiond.api.handlers import Ctx, unary
from sessiond.core.usage import Grouping, UsageQueries, UsageRow
from sessiond.domain.errors import InvalidArgument
from sessiond.v1 import session_service_pb2 as pb

_GROUPING = {getattr(pb, f"USAGE_GROUPING_{g.name}"): g for g in Grouping}


def _groupings(request: pb.GetUsageRequest) -> set[Grouping]:
    found = set()
    for value in request.group_by:
        grouping = _GROUPING.get(value)
        if grouping is None:
            raise InvalidArgument("group_by", "group_by takes TENANT, AGENT, MODEL or DAY")
        found.add(grouping)
    return found


def _row_pb(row: UsageRow) -> pb.UsageRow:
    return pb.UsageRow(
        tenant=row.tenant,
        agent_id=row.agent_id,
        model=row.model,
        day=convert.timestamp(row.day) if row.day else None,
        usage=convert.usage_pb(row.usage),
        runs=row.runs,
    )


class UsageRpcs:
    def __init__(self, usage: UsageQueries) -> None:
        self.usage = usage

    @unary
    async def GetUsage(self, request: pb.GetUsageRequest, context: Ctx) -> pb.GetUsageResponse:
        start = (
            convert.ms_from_timestamp(request.start_time, "start_time")
            if request.HasField("start_time")
            else None
        )
        end = (
            convert.ms_from_timestamp(request.end_time, "end_time")
            if request.HasField("end_time")
            else None
        )
        report = await self.usage.usage(current_caller(), start, end, _groupings(request))
        return pb.GetUsageResponse(
            rows=[_row_pb(r) for r in report.rows],
            start_time=convert.timestamp(report.start),
            end_time=convert.timestamp(report.end),
        )
