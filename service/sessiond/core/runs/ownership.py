"""Which process executes a run: this one alone, or the replica holding the run's lease.

With a store this process alone writes (SQLite, memory), every running run is this
process's: there is nothing to grant, renew or check, and at start every run left RUNNING
is a crash's (`SoleOwner`). With replicas sharing a store (PostgreSQL), a run executes on
the replica whose write started it, under a lease it renews; every write of the run
checks that the lease is still its own, under the epoch it was granted, so a replica that
stalled past its lease writes nothing more of the run once another took it over
(`Leases`, kept alive and reaped by `ownership_keeper.LeaseKeeper`).
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sessiond.domain.clock import now_ms
from sessiond.domain.errors import SessiondError
from sessiond.domain.models import Run, RunLease
from sessiond.store.base import ReadTx, WriteTx


class LeaseLost(SessiondError):
    """The run's lease is no longer this replica's: its write is refused (never reaches a
    client: the replica stops executing the run)."""

    reason = "LEASE_LOST"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id} is no longer executed here", metadata={"run_id": run_id})


def new_replica_id() -> str:
    return f"replica-{uuid.uuid4().hex[:12]}"


class RunOwnership(Protocol):
    replica_id: str
    shared: bool
    """Several replicas execute runs of one store."""

    def grant(self, tx: WriteTx, run: Run) -> None:
        """`run` starts executing here (in the transaction that makes it RUNNING)."""
        ...

    def check(self, tx: ReadTx, run_id: str) -> None:
        """Raises LeaseLost unless the run is still this replica's to write."""
        ...

    def release(self, tx: WriteTx, run_id: str) -> None:
        """The run ended (in the transaction that records its end)."""
        ...

    def holder(self, tx: ReadTx, run_id: str) -> str:
        """The other live replica executing the run; "" when none (here, or nobody)."""
        ...

    def forget(self, run_id: str) -> None:
        """The run no longer executes here (its task ended, or it never launched)."""
        ...


class SoleOwner:
    """One process serves the store: every run is its own."""

    shared = False

    def __init__(self, replica_id: str = "") -> None:
        self.replica_id = replica_id or new_replica_id()

    def grant(self, tx: WriteTx, run: Run) -> None:
        return None

    def check(self, tx: ReadTx, run_id: str) -> None:
        return None

    def release(self, tx: WriteTx, run_id: str) -> None:
        return None

    def holder(self, tx: ReadTx, run_id: str) -> str:
        return ""

    def forget(self, run_id: str) -> None:
        return None


class Leases:
    """Replicas share the store: a run is the replica's that holds its lease."""

    shared = True

    def __init__(self, lease_ms: int, replica_id: str = "") -> None:
        self.replica_id = replica_id or new_replica_id()
        self.lease_ms = lease_ms
        self._epochs: dict[str, int] = {}
        """The epoch each run executing here was granted (its fencing token)."""

    def grant(self, tx: WriteTx, run: Run) -> None:
        previous = tx.get_lease(run.run_id)
        epoch = previous.epoch + 1 if previous is not None else 1
        expires_at = now_ms() + self.lease_ms
        tx.put_lease(RunLease(run.run_id, run.session_key, self.replica_id, epoch, expires_at))
        self._epochs[run.run_id] = epoch

    def epoch(self, run_id: str) -> int:
        return self._epochs.get(run_id, 0)

    def check(self, tx: ReadTx, run_id: str) -> None:
        lease = tx.get_lease(run_id)
        if lease is None or lease.owner != self.replica_id or lease.epoch != self.epoch(run_id):
            raise LeaseLost(run_id)

    def release(self, tx: WriteTx, run_id: str) -> None:
        tx.delete_lease(run_id)

    def forget(self, run_id: str) -> None:
        self._epochs.pop(run_id, None)

    def take_over(self, tx: WriteTx, lease: RunLease) -> None:
        """Fences the lease's holder out (a new epoch, held here) before closing its run."""
        tx.put_lease(RunLease(lease.run_id, lease.session_key, self.replica_id, lease.epoch + 1, 0))

    def holder(self, tx: ReadTx, run_id: str) -> str:
        lease = tx.get_lease(run_id)
        if lease is None or lease.owner == self.replica_id or lease.expires_at < now_ms():
            return ""
        return lease.owner
