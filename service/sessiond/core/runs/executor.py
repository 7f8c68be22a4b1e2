"""Executing runs: stream the agent's reply, shape deltas, persist events, end cleanly."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

import structlog
from sessiond.agents.base import (
    AgentError,
    AgentEvent,
    AgentRequest,
    TextDelta,
    ThinkingDelta,
    ToolEnd,
    ToolStart,
    ToolUpdate,
    UsageReport,
)
from sessiond.core.committer import Committer, chat_topic
from sessiond.core.limits import TenantLimits
from sessiond.core.runs.agents import AgentDirectory, AgentSpec
from sessiond.core.runs.budgets import BudgetCrossed, Budgets, charge
from sessiond.core.runs.context import TranscriptContext
from sessiond.core.runs.conversation import (
    Context,
    Conversation,
    fit,
    queued_among,
    record_omission,
)
from sessiond.core.runs.ending import Outcome, finish_run
from sessiond.core.runs.inputs import RunInputs, read_inputs
from sessiond.core.runs.observe import NoRunObserver, RunObserver, RunReport
from sessiond.core.runs.ownership import LeaseLost, RunOwnership, SoleOwner
from sessiond.core.runs.pacing import paced
from sessiond.core.runs.registry import ActiveRun, RunRegistry
from sessiond.core.runs.shaping import DeltaOut, DeltaShaper
from sessiond.core.runs.tool_stream import ToolStream, open_calls
from sessiond.domain.clock import now_ms
from sessiond.domain.events import Event, HistoryOmitted, LiveDelta
from sessiond.domain.models import Run, RunStatus, StopReason, Usage
from sessiond.store.base import ReadTx, WriteTx

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class RunSettings:
    delta_interval_s: float = 0.15
    silent_token: str = "NO_REPLY"
    default_timeout_ms: int = 600_000


AfterRun = Callable[[str], Awaitable[None]]
"""Called with the session key after a run completed with nothing queued behind it."""


class RunExecutor:
    def __init__(
        self,
        committer: Committer,
        agents: AgentDirectory,
        registry: RunRegistry,
        settings: RunSettings,
        *,
        ownership: RunOwnership | None = None,
        observer: RunObserver | None = None,
        after_run: AfterRun | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self.committer = committer
        self.ownership: RunOwnership = ownership or SoleOwner()
        """Whether runs are this process's alone, or leased among replicas."""
        self.agents = agents
        self.registry = registry
        self.settings = settings
        self.budgets = budgets or Budgets(TenantLimits())
        """Sessions' and tenants' budgets: a run crossing one stops (`budget`)."""
        self.observer: RunObserver = observer or NoRunObserver()
        """Told of every run's start and end (metrics)."""
        self.after_run = after_run
        """Automatic compaction, when configured."""
        self._tasks: set[asyncio.Task[None]] = set()
        self.context = TranscriptContext()
        """The newest transcript entries of recent runs (read incrementally)."""
        self.tools = ToolStream(committer, self.ownership, settings.delta_interval_s)

    def inputs(self, tx: ReadTx, run: Run) -> RunInputs:
        """Reads what `run`'s request needs (on a reader, when the run starts)."""
        inputs = read_inputs(tx, run, self.context, self.agents)
        assert inputs is not None  # outside a write it always reads
        return inputs

    def inputs_in_write(self, tx: ReadTx, run: Run) -> RunInputs | None:
        """The same, read by the write that starts `run`, for `launch`: saves the run a
        read. None when the transcript would need more than a few rows read (a write
        stays short); the run then reads them itself."""
        return read_inputs(tx, run, self.context, self.agents, in_write=True)

    def finish_and_prepare(
        self, tx: WriteTx, events: list[Event], run_id: str, outcome: Outcome
    ) -> tuple[Run | None, RunInputs | None]:
        """`finish_run`, plus the inputs of the queued run it starts (for `launch`)."""
        self.ownership.check(tx, run_id)
        next_run = finish_run(tx, events, run_id, outcome, self.ownership)
        if next_run is None:
            return None, None
        return next_run, self.inputs_in_write(tx, next_run)

    def launch(self, run: Run, inputs: RunInputs | None = None) -> ActiveRun | None:
        """Starts executing `run` (committed as RUNNING); `inputs` from its starting write
        (`inputs_in_write`), now committed, so kept for the session's next run. None when
        the run was stopped between its commit and this call."""
        if inputs is not None:
            self.context.remember(inputs.session_id, inputs.window)
        if self.registry.take_closed(run.run_id):
            return None
        active = ActiveRun(
            run.run_id,
            run.session_key,
            DeltaShaper(self.settings.delta_interval_s, self.settings.silent_token),
            DeltaShaper(self.settings.delta_interval_s),
        )
        self.registry.add(active)
        self.observer.run_started(run.run_id, run.session_key)
        active.task = asyncio.create_task(
            self._execute(active, run, inputs), name=f"run-{run.run_id}"
        )
        self._tasks.add(active.task)
        active.task.add_done_callback(self._tasks.discard)
        # A task cancelled before it first ran never enters `_execute`: its run must still
        # leave the registry and count as done, or whoever waits for it waits forever.
        active.task.add_done_callback(lambda _: self._unregister(active))
        return active

    def _unregister(self, active: ActiveRun) -> None:
        if self.registry.get(active.run_id) is active:
            self.registry.remove(active.run_id)
        self.ownership.forget(active.run_id)
        active.done.set()

    async def stop_all(self, reason: StopReason) -> None:
        """Stops every run of this process (shutdown) and waits until each is recorded."""
        runs = self.registry.all()
        for active in runs:
            active.request_stop(reason)
        await asyncio.gather(*(a.done.wait() for a in runs))

    async def close(self) -> None:
        """Cancels what still follows runs (automatic compaction) and waits for it; call
        after `stop_all`."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _execute(self, active: ActiveRun, run: Run, inputs: RunInputs | None) -> None:
        outcome: Outcome | None = None
        started = time.monotonic()
        try:
            outcome = await self._run_reply(active, run, inputs)
        except asyncio.CancelledError:
            if not active.stop_reason:
                raise
            outcome = self._stopped(active)
        except TimeoutError:
            outcome = self._stopped(active, StopReason.TIMEOUT)
        except AgentError as exc:
            outcome = self._stopped(active, StopReason.ERROR, exc.message, exc.kind)
        except BudgetCrossed:
            outcome = self._stopped(active, StopReason.BUDGET)
        except LeaseLost:
            log.warning("run.lease_lost", run_id=run.run_id)  # another replica closed it
        except Exception as exc:
            log.exception("run.failed", run_id=run.run_id)
            outcome = self._stopped(active, StopReason.ERROR, f"agent failed: {type(exc).__name__}")
        finally:
            # A stop request from here on must not cancel the recording of the outcome.
            active.finishing = True
            try:
                if outcome is not None:
                    await self._finish(active, outcome)
            finally:
                self._unregister(active)
            self.observer.run_ended(
                RunReport(
                    run.run_id,
                    run.session_key,
                    outcome.stop_reason if outcome is not None else StopReason.ERROR,
                    time.monotonic() - started,
                    outcome.usage if outcome is not None else Usage(),
                    model=active.model,
                )
            )

    @staticmethod
    def _stopped(
        active: ActiveRun,
        reason: StopReason = StopReason.ERROR,
        message: str = "",
        kind: str = "",
    ) -> Outcome:
        stop_reason = active.stop_reason or reason
        return Outcome(
            stop_reason=stop_reason,
            text=active.shaper.text,
            # What the request and the reply so far used: a stopped run was charged too.
            usage=active.usage_so_far(),
            model=active.model,
            error_message=message,
            error_kind=kind or ("unknown" if stop_reason is StopReason.ERROR else ""),
            open_tools=open_calls(active),
            thinking=_kept_thinking(active),
            # A shutdown leaves the queue for the next start (recover() restarts it).
            advance=stop_reason not in (StopReason.INTERRUPTED, StopReason.SHUTDOWN),
        )

    async def _finish(self, active: ActiveRun, outcome: Outcome) -> None:
        # A stopped run publishes no more deltas: its partial reply is in the transcript.
        try:
            next_run, inputs = await self.committer.commit(
                lambda tx, events: self.finish_and_prepare(tx, events, active.run_id, outcome)
            )
        except LeaseLost:
            log.warning("run.lease_lost", run_id=active.run_id)
            return
        except Exception:
            log.exception("run.finish_failed", run_id=active.run_id)
            return
        if next_run is not None:
            self.launch(next_run, inputs)
        elif self.after_run is not None and outcome.stop_reason.run_status is RunStatus.DONE:
            # In its own task: the run is over and must not wait for what follows it.
            task = asyncio.create_task(self._after_run(self.after_run, active.session_key))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _after_run(hook: AfterRun, session_key: str) -> None:
        try:
            await hook(session_key)
        except Exception:
            log.exception("run.after_run_failed", session_key=session_key)

    async def _run_reply(self, active: ActiveRun, run: Run, inputs: RunInputs | None) -> Outcome:
        if inputs is None:
            inputs = await self.committer.store.read(lambda tx: self.inputs(tx, run))
        active.reasoning_level = inputs.reasoning
        spec = self.agents.get(inputs.agent_id)
        context = await self._context(run, inputs, spec)
        request = self._request(inputs, context, spec)
        spec_cost = functools.partial(spec.cost, model=request.model)
        active.model, active.price = request.model, spec_cost
        active.request_tokens = context.tokens + spec.system_tokens
        allowance = await self.budgets.read_allowance(self.committer.store, inputs.session)
        charge(allowance, active.usage_so_far())
        timeout_s = (run.timeout_ms or self.settings.default_timeout_ms) / 1000
        usage = Usage()
        async with asyncio.timeout(timeout_s):
            events = spec.backend.stream(request)
            release = functools.partial(self._release_pending, active, run)
            async for event in paced(events, active.seconds_until_due, release):
                if isinstance(event, UsageReport):
                    usage = replace(event.usage, estimated_cost_usd=spec_cost(event.usage))
                    active.reported = usage
                else:
                    await self._handle(active, run, event)
                if allowance is not None:  # most runs have no budget: no estimate at all
                    charge(allowance, active.usage_so_far())
        thought = active.thinking.finish() if active.streams_thinking else None
        if thought is not None:
            await self._publish(active, thought, thinking=True)
        silent = active.shaper.is_silent()
        delta = active.shaper.finish()
        if delta is not None:
            await self._publish(active, delta)
        return Outcome(
            stop_reason=StopReason.SILENT if silent else StopReason.COMPLETED,
            text=active.shaper.text,
            usage=usage,
            model=active.model,
            open_tools=open_calls(active),
            thinking=_kept_thinking(active),
        )

    async def _context(self, run: Run, inputs: RunInputs, spec: AgentSpec) -> Context:
        """The run's conversation (`conversation`), cut to its agent's budget; a run whose
        context leaves out earlier history records it (`history_omitted`)."""
        conversation = Conversation(inputs.window.messages, run.run_id)
        unanswered = conversation.unanswered()
        waiting: frozenset[str] = frozenset()
        if unanswered:  # a queue: which of these questions still wait for their runs
            waiting = await self.committer.store.read(lambda tx: queued_among(tx, unanswered))
        question = inputs.question or conversation.question()
        ordered = conversation.ordered(question, waiting)
        # With nothing queued left out and no question from before the window, the
        # conversation holds exactly the window's entries: its cost is known.
        known = inputs.window.sent if not waiting and inputs.question is None else None
        context = fit(ordered, spec.transcript_budget, inputs.window.earlier, known)
        if context.omitted:
            omitted = HistoryOmitted(
                omitted_entries=context.omitted,
                estimated_tokens=context.tokens + spec.system_tokens,
                budget_tokens=spec.context_tokens,
            )
            await self.committer.commit(
                lambda tx, events: record_omission(tx, events, run, omitted)
            )
        return context

    @staticmethod
    def _request(inputs: RunInputs, context: Context, spec: AgentSpec) -> AgentRequest:
        return AgentRequest(
            agent_id=inputs.agent_id,
            model=inputs.model or spec.model,
            system_prompt=spec.system_prompt,
            transcript=context.messages,
            thinking_level=inputs.thinking,
        )

    async def _release_pending(self, active: ActiveRun, run: Run) -> None:
        """Releases coalesced text now: the agent paused past the interval."""
        await self._flush_text(active)
        await self.tools.release_pending(active, run)

    async def _flush_text(self, active: ActiveRun) -> None:
        if active.streams_thinking:
            thought = active.thinking.flush()
            if thought is not None:
                await self._publish(active, thought, thinking=True)
        delta = active.shaper.flush()
        if delta is not None:
            await self._publish(active, delta)

    async def _handle(self, active: ActiveRun, run: Run, event: AgentEvent) -> None:
        if isinstance(event, TextDelta):
            delta = active.shaper.add(event.text)
            if delta is not None:
                await self._publish(active, delta)
        elif isinstance(event, ThinkingDelta):
            # Kept whole for the transcript; released as deltas only when streamed.
            thought = active.thinking.add(event.text)
            if thought is not None and active.streams_thinking:
                await self._publish(active, thought, thinking=True)
        elif isinstance(event, ToolStart):
            # Text before the call goes out before its START (clients render it above).
            await self._flush_text(active)
            active.tool_chars += len(event.name) + len(event.input)
            await self.tools.start(active, run, event)
        elif isinstance(event, ToolUpdate):
            active.tool_chars += len(event.input)
            await self.tools.update(active, run, event)
        elif isinstance(event, ToolEnd):
            await self.tools.end(active, run, event)

    async def _publish(self, active: ActiveRun, delta: DeltaOut, *, thinking: bool = False) -> None:
        live = LiveDelta(
            active.session_key, active.run_id, delta.text, delta.offset, now_ms(), thinking
        )
        await self.committer.bus.publish(chat_topic(active.session_key), live)


def _kept_thinking(active: ActiveRun) -> str:
    return active.thinking.text if active.keeps_thinking else ""
