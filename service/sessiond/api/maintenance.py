"""SessionService RPCs for compaction, checkpoints, retention and plugin state."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf import json_format
from sessiond.api import convert
from sessiond.api.callers import current_caller
from sessiond.api.handlers import Ctx, unary
from sessiond.core.maintenance.checkpoints import Checkpoints
from sessiond.core.maintenance.compaction import Compactor
from sessiond.core.maintenance.retention import (
    CAP_OVERFLOW,
    KEEP,
    PRUNE_STALE,
    CleanupPolicy,
    Retention,
)
from sessiond.core.sessions.plugins import PluginState
from sessiond.domain.errors import InvalidArgument
from sessiond.domain.models import Checkpoint, Message
from sessiond.v1 import resources_pb2
from sessiond.v1 import session_service_pb2 as pb

_CLEANUP_ACTION = {
    KEEP: pb.CLEANUP_ACTION_KEEP,
    PRUNE_STALE: pb.CLEANUP_ACTION_PRUNE_STALE,
    CAP_OVERFLOW: pb.CLEANUP_ACTION_CAP_OVERFLOW,
}


@dataclass(frozen=True, slots=True)
class Maintenance:
    compactor: Compactor
    checkpoints: Checkpoints
    retention: Retention
    plugins: PluginState


def checkpoint_pb(
    checkpoint: Checkpoint, view: convert.KeyView, messages: list[Message] | None = None
) -> resources_pb2.Checkpoint:
    return resources_pb2.Checkpoint(
        checkpoint_id=checkpoint.checkpoint_id,
        session_key=view(checkpoint.session_key),
        created_at=convert.timestamp(checkpoint.created_at),
        reason=checkpoint.reason,
        tokens_before=checkpoint.tokens_before,
        tokens_after=checkpoint.tokens_after,
        message_count_before=checkpoint.message_count_before,
        session_id=checkpoint.session_id,
        messages=[convert.message_pb(m) for m in messages or ()],
    )


class MaintenanceRpcs:
    def __init__(self, maintenance: Maintenance) -> None:
        self.maintenance = maintenance

    @unary
    async def CompactSession(
        self, request: pb.CompactSessionRequest, context: Ctx
    ) -> pb.CompactSessionResponse:
        caller = current_caller()
        result = await self.maintenance.compactor.compact(
            caller,
            request.key,
            request.max_lines if request.HasField("max_lines") else None,
            request.keep_recent if request.HasField("keep_recent") else None,
        )
        return pb.CompactSessionResponse(
            compacted=result.compacted,
            checkpoint_id=result.checkpoint_id,
            tokens_before=result.tokens_before,
            tokens_after=result.tokens_after,
            kept=result.kept,
            reason=result.reason,
            session=convert.session_pb(result.session, caller.public_key),
        )

    @unary
    async def ListCheckpoints(
        self, request: pb.ListCheckpointsRequest, context: Ctx
    ) -> pb.ListCheckpointsResponse:
        caller = current_caller()
        found = await self.maintenance.checkpoints.list_for(caller, request.key)
        return pb.ListCheckpointsResponse(
            checkpoints=[checkpoint_pb(c, caller.public_key) for c in found]
        )

    @unary
    async def GetCheckpoint(
        self, request: pb.GetCheckpointRequest, context: Ctx
    ) -> pb.GetCheckpointResponse:
        caller = current_caller()
        checkpoint, messages = await self.maintenance.checkpoints.get(
            caller, request.key, request.checkpoint_id
        )
        return pb.GetCheckpointResponse(
            checkpoint=checkpoint_pb(checkpoint, caller.public_key, messages)
        )

    @unary
    async def BranchCheckpoint(
        self, request: pb.BranchCheckpointRequest, context: Ctx
    ) -> pb.BranchCheckpointResponse:
        caller = current_caller()
        session = await self.maintenance.checkpoints.branch(
            caller, request.key, request.checkpoint_id, request.label
        )
        return pb.BranchCheckpointResponse(session=convert.session_pb(session, caller.public_key))

    @unary
    async def RestoreCheckpoint(
        self, request: pb.RestoreCheckpointRequest, context: Ctx
    ) -> pb.RestoreCheckpointResponse:
        caller = current_caller()
        session, previous = await self.maintenance.checkpoints.restore(
            caller, request.key, request.checkpoint_id
        )
        return pb.RestoreCheckpointResponse(
            session=convert.session_pb(session, caller.public_key), previous_session_id=previous
        )

    @unary
    async def CleanupSessions(
        self, request: pb.CleanupSessionsRequest, context: Ctx
    ) -> pb.CleanupSessionsResponse:
        caller = current_caller()
        policy = CleanupPolicy(
            max_age_ms=(
                convert.ms_from_duration(request.max_age, "max_age")
                if request.HasField("max_age")
                else 0
            ),
            max_count=request.max_count,
            archive_max_age_ms=(
                convert.ms_from_duration(request.archive_max_age, "archive_max_age")
                if request.HasField("archive_max_age")
                else 0
            ),
            agent_id=request.agent_id,
            # Within the caller's tenant (an all_tenants token reads across tenants only).
            namespace=caller.namespace,
        )
        dry_run = request.dry_run if request.HasField("dry_run") else True
        report = await self.maintenance.retention.cleanup(policy, dry_run=dry_run)
        return pb.CleanupSessionsResponse(
            dry_run=report.dry_run,
            entries=[
                pb.CleanupEntry(
                    key=caller.public_key(e.key),
                    action=_CLEANUP_ACTION[e.action],
                    updated_at=convert.timestamp(e.updated_at),
                )
                for e in report.entries
            ],
            kept=report.count(KEEP),
            pruned_stale=report.count(PRUNE_STALE),
            cap_overflow=report.count(CAP_OVERFLOW),
            archives_pruned=len(report.archives),
        )

    @unary
    async def UpdatePluginState(
        self, request: pb.UpdatePluginStateRequest, context: Ctx
    ) -> pb.UpdatePluginStateResponse:
        plugins = self.maintenance.plugins
        caller = current_caller()
        if request.HasField("value"):
            try:
                value = json_format.MessageToDict(request.value)
            except ValueError as exc:  # NaN and infinities have no JSON form
                raise InvalidArgument("value", "value must be JSON") from exc
            session = await plugins.update(
                caller,
                request.key,
                request.plugin_id,
                request.namespace,
                value,
                unset=request.unset,
            )
        else:
            session = await plugins.update(
                caller, request.key, request.plugin_id, request.namespace, unset=request.unset
            )
        return pb.UpdatePluginStateResponse(session=convert.session_pb(session, caller.public_key))
