"""Keeping leased runs alive, reaping the runs of replicas that died, and answering other
replicas about the runs executing here (only when replicas share a store).

Each replica, in one background task:
- renews the leases of the runs it executes, every `renew_s`; a run whose lease it no
  longer holds (taken over while this replica stalled) is stopped without a further write;
- closes the runs whose lease expired (their replica died or was cut off) as
  `server_restart`, fencing the old holder out first, and starts the session's next queued
  run here;
- answers `RunCommand`s on its control topic: stop a run (an Abort or Steer received by
  another replica), or publish the reply so far (a stream attached on another replica).
"""

from __future__ import annotations

import asyncio
import contextlib
import random

import structlog
from sessiond.bus.base import SubscriptionClosed, SubscriptionOverflow
from sessiond.core.committer import Committer, chat_topic, control_topic
from sessiond.core.runs.ending import Outcome, finish_run
from sessiond.core.runs.executor import RunExecutor
from sessiond.core.runs.inputs import RunInputs
from sessiond.core.runs.ownership import Leases
from sessiond.core.runs.registry import RunRegistry
from sessiond.domain.clock import now_ms
from sessiond.domain.events import Event, LiveDelta, RunCommand, RunCommandAction
from sessiond.domain.models import Run, StopReason
from sessiond.store.base import WriteTx

log = structlog.get_logger(__name__)

REAP_BATCH = 100
COMMAND_PENDING = 1024
EXPIRED = Outcome(
    StopReason.SERVER_RESTART,
    error_message="the replica executing the run stopped answering",
    error_kind="unknown",
)


class LeaseKeeper:
    def __init__(
        self,
        committer: Committer,
        executor: RunExecutor,
        leases: Leases,
        registry: RunRegistry,
        renew_s: float,
    ) -> None:
        self.committer = committer
        self.executor = executor
        self.leases = leases
        self.registry = registry
        self.renew_s = renew_s

    async def run(self) -> None:
        """Renews, reaps and answers until cancelled."""
        commands = asyncio.create_task(self.serve_commands(), name="run-commands")
        try:
            while True:
                await asyncio.sleep(self.renew_s * random.uniform(0.8, 1.0))
                try:
                    await self.renew_once()
                    await self.reap_once()
                except Exception:
                    log.exception("leases.keeping_failed")
        finally:
            commands.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await commands

    async def renew_once(self) -> list[str]:
        """Extends the leases of the runs executing here; stops (and returns) those lost."""
        run_ids = [active.run_id for active in self.registry.all()]
        if not run_ids:
            return []
        expires_at = now_ms() + self.leases.lease_ms
        leases, me = self.leases, self.leases.replica_id

        def renew(tx: WriteTx) -> list[str]:
            return [
                run_id
                for run_id in run_ids
                if not tx.renew_lease(run_id, me, leases.epoch(run_id), expires_at)
            ]

        lost = await self.committer.store.write(renew)
        for run_id in lost:
            active = self.registry.get(run_id)
            if active is not None:
                log.warning("run.lease_lost", run_id=run_id)
                active.request_stop(StopReason.SERVER_RESTART)  # its end is not recorded
        return lost

    async def reap_once(self) -> int:
        """Closes the runs whose lease expired; returns how many."""
        now = now_ms()
        expired = await self.committer.store.read(lambda tx: tx.expired_leases(now, REAP_BATCH))
        closed = 0
        for lease in expired:
            started = await self.committer.commit(
                lambda tx, events, run_id=lease.run_id: self._close_expired(  # type: ignore[misc]
                    tx, events, run_id, now
                )
            )
            if started is not None:
                closed += 1
                next_run, inputs = started
                if next_run is not None:
                    self.executor.launch(next_run, inputs)
        if closed:
            log.warning("runs.reaped", closed=closed)
        return closed

    def _close_expired(
        self, tx: WriteTx, events: list[Event], run_id: str, now: int
    ) -> tuple[Run | None, RunInputs | None] | None:
        lease = tx.get_lease(run_id)
        if lease is None or lease.expires_at >= now:
            return None  # renewed, or closed, meanwhile
        run = tx.get_run(run_id)
        if run is None or run.ended:
            tx.delete_lease(run_id)
            return None
        self.leases.take_over(tx, lease)
        next_run = finish_run(tx, events, run_id, EXPIRED, self.leases)
        inputs = self.executor.inputs_in_write(tx, next_run) if next_run else None
        return next_run, inputs

    async def serve_commands(self) -> None:
        bus = self.committer.bus
        topic = control_topic(self.leases.replica_id)
        while True:
            subscription = bus.subscribe(topic, COMMAND_PENDING)
            try:
                await subscription.ready()  # commands from other replicas reach it now
                while True:
                    message = await subscription.get()
                    if isinstance(message, RunCommand):
                        await self._answer(message)
            except SubscriptionOverflow:
                continue  # dropped commands: their senders fall back on the lease
            except SubscriptionClosed:
                return
            finally:
                subscription.close()

    async def _answer(self, command: RunCommand) -> None:
        active = self.registry.get(command.run_id)
        if active is None:
            return  # ended, or never here: the sender reads the run's state
        if command.action is RunCommandAction.STOP:
            active.request_stop(StopReason(command.stop_reason or StopReason.ABORTED))
            return
        text = active.shaper.visible
        if text:
            snapshot = LiveDelta(active.session_key, active.run_id, text, 0, now_ms())
            await self.committer.bus.publish(chat_topic(active.session_key), snapshot)
