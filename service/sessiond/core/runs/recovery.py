"""Start-up recovery: runs a crash left RUNNING are closed, and the queues go on."""

from __future__ import annotations

from sessiond.core.committer import Committer
from sessiond.core.runs.ending import Outcome, finish_run, start_next
from sessiond.core.runs.executor import RunExecutor
from sessiond.core.runs.ownership import RunOwnership
from sessiond.domain.events import Event
from sessiond.domain.models import Run, RunStatus, StopReason
from sessiond.store.base import WriteTx

RESTARTED = Outcome(
    StopReason.SERVER_RESTART,
    error_message="the server restarted while the run was in flight",
    error_kind="unknown",
    advance=False,
)


def _close_crashed(
    tx: WriteTx, events: list[Event], ownership: RunOwnership
) -> tuple[int, list[Run]]:
    open_runs = tx.open_runs()
    # Alone on the store, every running run is a dead process's; shared, only those no
    # replica holds a lease of (one that holds it and dies is reaped when it expires).
    crashed = [
        r
        for r in open_runs
        if r.status is RunStatus.RUNNING and not (ownership.shared and tx.get_lease(r.run_id))
    ]
    for run in crashed:
        finish_run(tx, events, run.run_id, RESTARTED, ownership)
    started = []
    for key in dict.fromkeys(r.session_key for r in open_runs):
        session = tx.get_session(key)
        next_run = start_next(tx, events, session, ownership) if session else None
        if next_run is not None:
            started.append(next_run)
    return len(crashed), started


async def recover(committer: Committer, executor: RunExecutor) -> int:
    """Closes runs a crash left RUNNING (`server_restart`) and restarts the queues; returns
    how many were closed."""
    ownership = executor.ownership
    closed, started = await committer.commit(
        lambda tx, events: _close_crashed(tx, events, ownership)
    )
    for run in started:
        executor.launch(run)
    return closed
