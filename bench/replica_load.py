"""Replica scenarios of the load generator (bench/load.py): what a Send and a delta cost
in store round trips, transactions and bus messages, on replicas sharing PostgreSQL and NATS.

`cost`: sessions watched by a WatchChat stream on every replica of `watch_target`, Sends
to `target` (replica A), one at a time per session (the next once the run has ended at
every stream of the session). Two windows of `sends` Sends each after a warm-up: replies
of one delta (`short_chars`) and of many (`long_chars`), so that what a delta costs is the
difference between them. Around each window:
* PostgreSQL: every statement the replicas send is logged (`log_statement = all`, turned
  on for the windows only, through `ALTER SYSTEM` and a reload) and the log lines between
  the windows' ends are counted: one statement line is one round trip (a statement
  executed, or a simple query of several, as `BEGIN; SELECT ... FOR UPDATE`); the write
  transactions are those that take the writers' lock, the read transactions those begun
  `READ ONLY`;
* NATS: messages received from publishers (`in_msgs`) and sent to subscribers
  (`out_msgs`), from the server's monitoring endpoint (`/varz`).
"""

from __future__ import annotations

import asyncio
import datetime
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sessiond.v1 import chat_service_pb2, chat_service_pb2_grpc

from bench.cluster import varz
from bench.echo_server import CHUNK_CHARS
from bench.load import (
    SETUP_TIMEOUT_S,
    Bounded,
    Result,
    Spec,
    Watcher,
    _channel,
    _create_sessions,
    _open_watchers,
    _prime,
    text_of,
    with_cpu,
)

STATEMENT = (b"] LOG:  statement: ", b"] LOG:  execute ")
WRITE_TX = b"FROM event_feed_head FOR UPDATE"
READ_TX = b"READ ONLY"
COMMIT = b"COMMIT"
# PostgreSQL's default log_line_prefix, '%m [%p] ': the time (ms) and the backend's pid.
PREFIX = re.compile(rb"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) \S+ \[(\d+)\]")
# Set for the windows only: every statement, without its parameters (shorter lines).
LOG_SETTINGS = {"log_statement": "all", "log_parameter_max_length": "0"}
SETTLE_S = 0.3
"""Before a window (the reload reaches every backend at its next statement) and after it
(the last run's end reaches every stream a moment after its commit)."""


@dataclass
class Mark:
    """Where the counters stood."""

    log_offset: int
    nats_in: int
    nats_out: int


class Counters:
    """PostgreSQL's statement log and NATS's message counts, read around a window."""

    def __init__(self, spec: Spec) -> None:
        self.admin_url: str = spec["admin_url"]
        self.log = Path(spec["postgres_log"])
        self.monitor: str = spec["nats_monitor"]

    def statement_log(self, on: bool) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute("SET log_statement = 'none'")  # not this connection's own
            for name, value in LOG_SETTINGS.items():
                if on:
                    conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                else:
                    conn.execute(f"ALTER SYSTEM RESET {name}")
            conn.execute("SELECT pg_reload_conf()")

    def mark(self) -> Mark:
        stats = varz(self.monitor)
        return Mark(self.log.stat().st_size, int(stats["in_msgs"]), int(stats["out_msgs"]))

    def since(self, mark: Mark) -> dict[str, float]:
        now = self.mark()
        with self.log.open("rb") as log:
            log.seek(mark.log_offset)
            lines = log.read(now.log_offset - mark.log_offset).splitlines()
        statements = [line for line in lines if any(s in line for s in STATEMENT)]
        return {
            "statements": len(statements),
            "write_tx": sum(WRITE_TX in line for line in statements),
            "read_tx": sum(READ_TX in line for line in statements),
            "lock_ms": lock_held_ms(statements),
            "nats_in": now.nats_in - mark.nats_in,
            "nats_out": now.nats_out - mark.nats_out,
        }


def lock_held_ms(statements: list[bytes]) -> float:
    """How long write transactions held the writers' lock: per backend, from the statement
    that takes it to the start of its COMMIT (the log's times, to the millisecond; the
    time a transaction waited for the lock is counted too, so with writers on one replica
    only, as in `cost`, there is none)."""
    began: dict[bytes, datetime.datetime] = {}
    held = 0.0
    for line in statements:
        match = PREFIX.match(line)
        if match is None:
            continue
        at = datetime.datetime.fromisoformat(match.group(1).decode())
        pid = match.group(2)
        if WRITE_TX in line:
            began[pid] = at
        elif COMMIT in line and pid in began:
            held += (at - began.pop(pid)).total_seconds() * 1000
    return held


async def cost(spec: Spec) -> Result:
    target, sessions = spec["target"], spec["sessions"]
    watch_target: list[str] = spec["watch_target"]
    keys = [f"bench-cost-{i}-{id(spec)}" for i in range(sessions)]
    await _create_sessions(target, keys)
    channels, watchers = await _open_watchers(
        watch_target, keys, len(watch_target), len(watch_target)
    )
    counters = Counters(spec)
    async with _channel(target) as driver:
        chat = chat_service_pb2_grpc.ChatServiceStub(driver)
        try:
            await _prime(chat, watchers)
            windows = Windows(spec, chat, keys, watchers)
            await windows.run(spec["short_chars"], spec["warmup_ops"])  # warm-up, not counted

            async def one(rep: int) -> Result:
                await asyncio.to_thread(counters.statement_log, True)
                try:
                    short = await windows.counted(counters, spec["short_chars"])
                    long = await windows.counted(counters, spec["long_chars"])
                finally:
                    await asyncio.to_thread(counters.statement_log, False)
                return per_send(short, long)

            return {"reps": [await with_cpu(spec, one(rep)) for rep in range(spec["reps"])]}
        finally:
            await asyncio.gather(*(w.close() for ws in watchers.values() for w in ws))
            for channel in channels:
                await channel.close()


@dataclass
class Windows:
    """Rounds of Sends, one run at a time per session."""

    spec: Spec
    chat: Any
    """A ChatServiceStub on an aio channel."""
    keys: list[str]
    watchers: dict[str, list[Watcher]]

    async def run(self, chars: int, sends: int) -> Result:
        text = text_of(chars)

        async def op(index: int) -> None:
            key = self.keys[index]
            run = await self.chat.Send(chat_service_pb2.SendRequest(session_key=key, text=text))
            ends = [w.ended[run.run_id].wait() for w in self.watchers[key]]
            await asyncio.wait_for(asyncio.gather(*ends), SETUP_TIMEOUT_S)

        bounded = Bounded(len(self.keys), sends, self.spec["max_seconds"])
        return await bounded.run(op)

    async def counted(self, counters: Counters, chars: int) -> Result:
        first = [w for ws in self.watchers.values() for w in ws[:1]]
        events, deltas = _sum(first, "events"), _sum(first, "deltas")
        await asyncio.sleep(SETTLE_S)
        mark = await asyncio.to_thread(counters.mark)
        result = await self.run(chars, self.spec["sends"])
        await asyncio.sleep(SETTLE_S)
        result |= await asyncio.to_thread(counters.since, mark)
        result["deltas_sent"] = result["ops"] * max(1, chars // CHUNK_CHARS)
        # At the first stream of each session (on `target`, its own replica: no merging
        # of deltas across a bus hop), what a Send's run recorded and streamed.
        result["durable_events"] = (_sum(first, "events") - events) - (
            _sum(first, "deltas") - deltas
        )
        return result


def _sum(watchers: list[Watcher], field: str) -> int:
    return sum(int(getattr(w, field)) for w in watchers)


def per_send(short: Result, long: Result) -> Result:
    """Per Send (with its run of one delta), and per further delta (the difference
    between the two windows)."""
    sends = max(1, short["ops"])
    out: Result = {"sends": short["ops"], "errors": short["errors"] + long["errors"]}
    out["seconds"] = short["seconds"] + long["seconds"]
    out["durable_events_per_send"] = short["durable_events"] / sends
    extra_deltas = long["deltas_sent"] - long["ops"] * short["deltas_sent"] / sends
    for key in ("statements", "write_tx", "read_tx", "lock_ms", "nats_in", "nats_out"):
        out[f"{key}_per_send"] = short[key] / sends
        scaled = long[key] - short[key] * long["ops"] / sends  # as many Sends as `long`
        out[f"{key}_per_delta"] = scaled / extra_deltas if extra_deltas > 0 else 0.0
    out["windows"] = [short, long]
    return out


SCENARIOS: dict[str, Callable[[Spec], Awaitable[Any]]] = {"cost": cost}
