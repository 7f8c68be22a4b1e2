"""One group commit of the writer thread: the queued write functions in one transaction.

The functions run one after another, without savepoints: a savepoint per function costs
two round trips, and each one that writes takes a subtransaction id; past 64 of them in
one transaction, every snapshot taken meanwhile (other replicas' readers included) must
look subtransactions up in pg_subtrans. A function that raises is rolled back alone all
the same: the group's transaction is rolled back and the group run again, this time each
function in a savepoint (so the one that raised runs twice, as the Store contract allows).

A group that meets a serialization failure or a deadlock (neither expected under the
writers' lock, but the database may report them), or loses its connection before COMMIT,
is rolled back and run again from the start, on a connection from the pool. A COMMIT
that fails otherwise, or the writers' lock not obtained within `lock_timeout`, fails
every write of the group with `Unavailable`.
"""

from __future__ import annotations

import psycopg
import structlog
from psycopg import errors
from psycopg.pq import TransactionStatus
from psycopg_pool import ConnectionPool
from sessiond.domain.errors import SessiondError, Unavailable
from sessiond.store.postgres.read_tx import Connection
from sessiond.store.postgres.write_tx import PostgresWriteTx
from sessiond.store.write_queue import Job, Outcome, failed

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 5
"""Runs of a group that keeps meeting serialization failures, deadlocks or lost connections."""

_RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


class _Retry(Exception):
    """The group's transaction was rolled back and may be run again."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.connection_lost = conn.closed


def rollback(conn: Connection) -> None:
    """Ends the connection's transaction, if any; closes a connection that cannot."""
    if not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
        try:
            conn.execute("ROLLBACK")
        except psycopg.Error:
            conn.close()  # the pool replaces it


def _ends_attempt(exc: BaseException, conn: Connection) -> bool:
    """Whether `exc` ends the group's attempt (to be retried) rather than one function."""
    return isinstance(exc, _RETRYABLE) or conn.closed


def _final_failure(exc: BaseException) -> None:
    """Logs a function's failure that its caller will get: one that is not a domain
    error is a bug."""
    if not isinstance(exc, SessiondError):
        log.error("store.write_failed", error=repr(exc), exc_info=exc)


def commit_group(pool: ConnectionPool[Connection], group: list[Job]) -> list[Outcome]:
    """Runs the group in one transaction and commits it: each function's outcome."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with pool.connection() as conn:
                outcomes = _run_group(conn, group, savepoints=False)
                if outcomes is None:  # a function raised: again, each in a savepoint
                    outcomes = _run_group(conn, group, savepoints=True)
                assert outcomes is not None
                return outcomes
        except _Retry as retry:
            cause = retry.__cause__ or retry
            if attempt == MAX_ATTEMPTS:
                return failed(group, cause)
            log.warning("store.write_retry", error=str(cause), attempt=attempt)
            if retry.connection_lost:  # the server restarted? replace the dead connections
                pool.check()
        except Exception as exc:  # the lock not obtained in time, the commit refused...
            return failed(group, exc)
    raise AssertionError("unreachable")


def _run_group(conn: Connection, group: list[Job], *, savepoints: bool) -> list[Outcome] | None:
    """The outcomes once committed; None when a function raised outside a savepoint (the
    transaction is rolled back), unless it was the group's only one."""
    tx = PostgresWriteTx(conn)
    outcomes: list[Outcome] = []
    try:
        tx.begin()
        for job in group:
            if savepoints:
                outcomes.append(_run_in_savepoint(conn, tx, job))
                continue
            outcome = _run(conn, tx, job)
            if outcome[1] is not None:
                rollback(conn)
                if len(group) > 1:
                    return None
                _final_failure(outcome[1])
                return [outcome]
            outcomes.append(outcome)
    except Exception as exc:
        rollback(conn)
        if _ends_attempt(exc, conn):
            raise _Retry(conn) from exc
        raise
    try:
        tx.commit()
    except psycopg.Error as exc:
        rollback(conn)
        if isinstance(exc, _RETRYABLE):  # refused at commit: nothing was committed
            raise _Retry(conn) from exc
        raise  # a lost connection too: whether it committed is not known
    return outcomes


def _run(conn: Connection, tx: PostgresWriteTx, job: Job) -> Outcome:
    try:
        result = job.fn(tx)
    except Exception as exc:
        if _ends_attempt(exc, conn):
            raise
        return None, exc
    if conn.info.transaction_status == TransactionStatus.INERROR:
        # The function caught a database error and returned: its writes cannot stay.
        return None, Unavailable("storage write failed")
    return result, None


def _run_in_savepoint(conn: Connection, tx: PostgresWriteTx, job: Job) -> Outcome:
    """One function in a savepoint: if it raises, it is rolled back alone."""
    global_seq = tx.global_seq
    conn.execute("SAVEPOINT job")
    outcome = _run(conn, tx, job)
    if outcome[1] is None:
        conn.execute("RELEASE SAVEPOINT job")
        return outcome
    conn.execute("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
    tx.global_seq = global_seq  # the positions it took are free again
    _final_failure(outcome[1])
    return outcome
