"""A run's tool calls as its backend streams them: open calls, coalesced argument
pieces, and the commits of their events (`tools` writes them)."""

from __future__ import annotations

from sessiond.agents.base import ToolEnd, ToolStart, ToolUpdate
from sessiond.core.committer import Committer, WriteWithEvents
from sessiond.core.runs.ownership import RunOwnership
from sessiond.core.runs.registry import ActiveRun, OpenCall
from sessiond.core.runs.shaping import DeltaShaper
from sessiond.core.runs.tools import ToolCall, record_end, record_start, record_update
from sessiond.domain.events import Event
from sessiond.domain.models import Run
from sessiond.store.base import WriteTx


class ToolStream:
    """Argument pieces are coalesced as reply text is (at most one UPDATE per interval,
    the rest flushed before the END); progress of a result goes out at once."""

    def __init__(self, committer: Committer, ownership: RunOwnership, interval_s: float) -> None:
        self.committer = committer
        self.ownership = ownership
        self.interval_s = interval_s

    async def start(self, active: ActiveRun, run: Run, event: ToolStart) -> None:
        arguments = DeltaShaper(self.interval_s)
        arguments.released(event.input)
        active.open_tools[event.tool_call_id] = OpenCall(event.name, arguments)
        await self._commit(run, lambda tx, events: record_start(tx, events, run, event))

    async def update(self, active: ActiveRun, run: Run, event: ToolUpdate) -> None:
        call = active.open_tools.get(event.tool_call_id)
        piece = event.input
        if call is not None:
            released = call.arguments.add(event.input)
            if released is None and event.text:
                released = call.arguments.flush()  # progress carries pending arguments along
            piece = released.text if released is not None else ""
        if piece or event.text:
            await self._update(run, event.tool_call_id, piece, event.text)

    async def end(self, active: ActiveRun, run: Run, event: ToolEnd) -> None:
        call = active.open_tools.pop(event.tool_call_id, None)
        name, arguments = (call.name, call.arguments) if call else ("", DeltaShaper(0))
        piece = arguments.flush()
        ended = ToolCall(event.tool_call_id, name, arguments.text)
        rest = piece.text if piece is not None else ""
        await self._commit(run, lambda tx, events: record_end(tx, events, run, ended, rest, event))

    async def release_pending(self, active: ActiveRun, run: Run) -> None:
        """Sends the argument pieces still waiting (the backend paused past the interval)."""
        for call_id, call in list(active.open_tools.items()):
            piece = call.arguments.flush()
            if piece is not None:
                await self._update(run, call_id, piece.text, "")

    async def _update(self, run: Run, call_id: str, piece: str, progress: str) -> None:
        await self._commit(
            run, lambda tx, events: record_update(tx, events, run, call_id, piece, progress)
        )

    async def _commit(self, run: Run, write: WriteWithEvents[None]) -> None:
        def checked(tx: WriteTx, events: list[Event]) -> None:
            self.ownership.check(tx, run.run_id)  # LeaseLost: another replica runs it now
            write(tx, events)

        await self.committer.commit(checked)


def open_calls(active: ActiveRun) -> tuple[ToolCall, ...]:
    """The calls `active` leaves open, with their arguments so far."""
    return tuple(
        ToolCall(call_id, call.name, call.arguments.text)
        for call_id, call in active.open_tools.items()
    )
