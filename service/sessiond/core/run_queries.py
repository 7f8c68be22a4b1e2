"""Run queries (GetRun, ListRuns, WaitRun) and start-up recovery, shared by RunService."""

from __future__ import annotations

import asyncio

from sessiond.bus.base import SubscriptionClosed, SubscriptionOverflow
from sessiond.core.chatfeed import TERMINAL
from sessiond.core.errors import InvalidArgument, RunNotFound
from sessiond.core.events import EventLog, chat_topic
from sessiond.core.executor import RunExecutor
from sessiond.core.models import Event, Run, RunStatus
from sessiond.core.outcome import Outcome, finish_run, start_next
from sessiond.core.paging import decode_token, encode_token, page_size
from sessiond.core.rules import SessionRules
from sessiond.core.sessions import require
from sessiond.store.base import ReadTx, WriteTx


class RunQueries:
    """Reads of runs and the crash recovery of RunService (which sets these attributes)."""

    log: EventLog
    rules: SessionRules
    executor: RunExecutor

    async def get_run(self, run_id: str) -> Run:
        wanted = run_id.strip()
        if not wanted:
            raise InvalidArgument("run_id", "run_id required")
        run = await self.log.store.read(lambda tx: tx.get_run(wanted))
        if run is None:
            raise RunNotFound(wanted)
        return run

    async def list_runs(
        self, raw_key: str, status: RunStatus | None, size: int, token: str
    ) -> tuple[list[Run], str]:
        key = self.rules.key(raw_key, "session_key")
        limit = page_size(size, default=50, maximum=500)
        offset = int(decode_token(token, "runs")["o"]) if token else 0

        def read(tx: ReadTx) -> list[Run]:
            require(tx.get_session(key), key)
            return tx.list_runs(key, status, limit + 1, offset)

        rows = await self.log.store.read(read)
        more = len(rows) > limit
        return rows[:limit], encode_token("runs", o=offset + limit) if more else ""

    async def recover(self) -> int:
        """Closes runs a crash left RUNNING (`server_restart`) and restarts the queues."""

        def write(tx: WriteTx, events: list[Event]) -> tuple[int, list[Run]]:
            open_runs = tx.open_runs()
            crashed = [r for r in open_runs if r.status is RunStatus.RUNNING]
            for run in crashed:
                outcome = Outcome(
                    stop_reason="server_restart",
                    error_message="the server restarted while the run was in flight",
                    error_kind="unknown",
                    advance=False,
                )
                finish_run(tx, events, run.run_id, outcome)
            started = []
            for key in dict.fromkeys(r.session_key for r in open_runs):
                session = tx.get_session(key)
                next_run = start_next(tx, events, session) if session else None
                if next_run is not None:
                    started.append(next_run)
            return len(crashed), started

        closed, started = await self.log.commit(write)
        for run in started:
            self.executor.launch(run)
        return closed

    async def wait_run(self, run_id: str, timeout_s: float) -> Run:
        """The run once it has ended, or as it is when `timeout_s` passes."""
        run = await self.get_run(run_id)
        if run.ended:
            return run
        subscription = self.log.bus.subscribe(chat_topic(run.session_key), 64)
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            run = await self.get_run(run_id)
            while not run.ended and (remaining := deadline - loop.time()) > 0:
                try:
                    message = await subscription.get(remaining)
                except SubscriptionClosed:
                    break
                except SubscriptionOverflow:
                    subscription.close()
                    subscription = self.log.bus.subscribe(chat_topic(run.session_key), 64)
                    message = True
                if message is None:
                    break
                if message is True or _ends(message, run.run_id):
                    run = await self.get_run(run_id)
        finally:
            subscription.close()
        return run


def _ends(message: object, run_id: str) -> bool:
    return isinstance(message, Event) and message.run_id == run_id and message.kind in TERMINAL
