"""The load generator, a process of its own started by the suite (bench/suite.py).

    python -m bench.load '<json plan>'  (or `-` to read it from stdin)  ->  JSON on stdout

A plan names the server processes (pids, for their CPU time) and lists scenarios to run
in order.
Every loop is bounded twice: by a count (`max_ops`) and by a deadline (`max_seconds`).
Repetitions follow a short warm-up; each reports its own figures. Around each scenario the
CPU time of every server (`server_cpu_s`) and of this process (`load_cpu_s`) is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
from google.protobuf.wrappers_pb2 import StringValue
from sessiond.v1 import (
    chat_service_pb2,
    chat_service_pb2_grpc,
    session_service_pb2,
    session_service_pb2_grpc,
)

from bench import loops
from bench.echo_server import CHUNK_CHARS, STREAM, UNARY
from bench.procs import cpu_seconds, rss_bytes, tree_cpu_seconds
from bench.stats import percentile

Spec = dict[str, Any]
Result = dict[str, Any]
# Separate connections per channel (gRPC shares one between identical channels otherwise).
LOCAL_POOL = [("grpc.use_local_subchannel_pool", 1)]
# A target of several addresses (`ipv4:127.0.0.1:a,127.0.0.1:b`, replicas): each call goes
# to the next one.
SPREAD = [("grpc.lb_policy_name", "round_robin")]
SETUP_TIMEOUT_S = 30.0


def text_of(length: int) -> str:
    base = "the quick brown fox jumps over the lazy dog; "
    return (base * (length // len(base) + 1))[:length]


@dataclass
class Bounded:
    """Up to `max_ops` operations by `concurrency` workers, stopping at the deadline."""

    concurrency: int
    max_ops: int
    max_seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    started: int = 0

    async def run(self, op: Callable[[int], Awaitable[float | None]]) -> Result:
        loop = asyncio.get_running_loop()
        begin = loop.time()
        deadline = begin + self.max_seconds
        last_done = begin

        async def worker(index: int) -> None:
            nonlocal last_done
            while self.started < self.max_ops and loop.time() < deadline:
                self.started += 1
                t0 = time.perf_counter()
                try:
                    measured = await op(index)
                except grpc.aio.AioRpcError:
                    self.errors += 1
                    continue
                elapsed = time.perf_counter() - t0
                self.latencies.append(measured if measured is not None else elapsed)
                last_done = loop.time()

        await asyncio.gather(*(worker(i) for i in range(self.concurrency)))
        elapsed = max(last_done - begin, 1e-9)
        done = len(self.latencies)
        return {
            "ops": done,
            "errors": self.errors,
            "seconds": elapsed,
            "ops_per_s": done / elapsed,
            "p50_ms": percentile(self.latencies, 50) * 1000,
            "p99_ms": percentile(self.latencies, 99) * 1000,
        }


def _channel(target: str, local: bool = False) -> grpc.aio.Channel:
    options = (LOCAL_POOL if local else []) + (SPREAD if "," in target else [])
    return grpc.aio.insecure_channel(target, options=options)


Processes = dict[str, tuple[int, bool]]
"""Name: (pid, whether its descendants count too), of the servers whose CPU is measured."""


def cpu_now(processes: Processes) -> dict[str, float]:
    return {
        name: tree_cpu_seconds(pid) if tree else cpu_seconds(pid)
        for name, (pid, tree) in processes.items()
    }


async def with_cpu(spec: Spec, rep: Awaitable[Result]) -> Result:
    """A repetition's result with the CPU time each server spent during it."""
    processes: Processes = spec.get("cpu", {})
    before = cpu_now(processes)
    result = await rep
    after = cpu_now(processes)
    result["server_cpu_s"] = {name: after[name] - before[name] for name in processes}
    return result


async def _create_sessions(target: str, keys: list[str]) -> None:
    async with _channel(target) as channel:
        stub = session_service_pb2_grpc.SessionServiceStub(channel)
        for start in range(0, len(keys), 64):
            await asyncio.gather(
                *(
                    stub.CreateSession(
                        session_service_pb2.CreateSessionRequest(key=key), timeout=SETUP_TIMEOUT_S
                    )
                    for key in keys[start : start + 64]
                )
            )


async def _reps(spec: Spec, one: Callable[[int], Awaitable[Result]]) -> list[Result]:
    results = []
    for rep in range(spec["reps"]):
        results.append(await one(rep))
    return results


# -- unary: echo, GetSession, durable Send ---------------------------------------------------


async def unary(spec: Spec) -> Result:
    target, method, concurrency = spec["target"], spec["method"], spec["concurrency"]
    tag = uuid.uuid4().hex[:8]
    async with _channel(target) as channel:
        call: Callable[[int], Awaitable[Any]]
        statuses: defaultdict[int, int] = defaultdict(int)
        if method == "echo":
            echo = channel.unary_unary(
                UNARY,
                request_serializer=StringValue.SerializeToString,
                response_deserializer=StringValue.FromString,
            )
            request = StringValue(value="bench-session")

            def call(index: int) -> Awaitable[Any]:
                return echo(request)

        elif method == "get_session":
            key = f"bench-get-{tag}"
            await _create_sessions(target, [key])
            sessions = session_service_pb2_grpc.SessionServiceStub(channel)
            get_request = session_service_pb2.GetSessionRequest(key=key)

            def call(index: int) -> Awaitable[Any]:
                return sessions.GetSession(get_request)

        elif method == "send":
            # Each worker sends to its own sessions in turn, so most Sends start a run
            # (a Send to a session whose run is still going queues behind it).
            per_worker = 4
            keys = [f"bench-send-{tag}-{i}" for i in range(concurrency * per_worker)]
            await _create_sessions(target, keys)
            chat = chat_service_pb2_grpc.ChatServiceStub(channel)
            turns = [0] * concurrency

            async def call(index: int) -> Any:
                turns[index] += 1
                key = keys[index * per_worker + turns[index] % per_worker]
                response = await chat.Send(
                    chat_service_pb2.SendRequest(session_key=key, text="hello from the bench")
                )
                statuses[response.status] += 1
                return None

        else:
            raise ValueError(method)

        async def op(index: int) -> None:
            await call(index)
            return None

        await Bounded(concurrency, spec["warmup_ops"], spec["max_seconds"]).run(op)
        statuses.clear()

        async def one(rep: int) -> Result:
            bounded = Bounded(concurrency, spec["max_ops"], spec["max_seconds"])
            return await with_cpu(spec, bounded.run(op))

        reps = await _reps(spec, one)
        if method == "send":
            names = chat_service_pb2.SendStatus
            counts = {names.Name(cast(Any, k)): v for k, v in statuses.items()}
            return {"reps": reps, "send_status": counts}
        return {"reps": reps}


# -- echo streaming ---------------------------------------------------------------------------


async def echo_stream(spec: Spec) -> Result:
    target, concurrency = spec["target"], spec["concurrency"]
    channels = [_channel(target, local=True) for _ in range(spec.get("channels", 1))]
    request = StringValue(value=text_of(spec["text_chars"]))
    calls = [
        c.unary_stream(
            STREAM,
            request_serializer=StringValue.SerializeToString,
            response_deserializer=StringValue.FromString,
        )
        for c in channels
    ]
    counted = [0]

    async def op(index: int) -> None:
        n = 0
        async for _ in calls[index % len(calls)](request):
            n += 1
        counted[0] += n
        return None

    try:
        await Bounded(concurrency, spec["warmup_ops"], spec["max_seconds"]).run(op)

        async def one(rep: int) -> Result:
            counted[0] = 0
            result = await Bounded(concurrency, spec["max_ops"], spec["max_seconds"]).run(op)
            result["events"] = counted[0]
            result["events_per_s"] = counted[0] / result["seconds"]
            return result

        return {"reps": await _reps(spec, one)}
    finally:
        for channel in channels:
            await channel.close()


# -- WatchChat: fan-out to subscribers, concurrent runs, time to first delta ----------------


class Watcher:
    """One WatchChat stream: counts events, notes each run's first delta and its end."""

    def __init__(
        self, stub: chat_service_pb2_grpc.ChatServiceStub, key: str, ready_after: int = 1
    ) -> None:
        self.key = key
        self.ready_after = ready_after
        self.events = 0
        self.deltas = 0
        self.delta_chars = 0
        """Reply text received in deltas (a lagging stream's merged deltas carry several
        of the agent's chunks in one event)."""
        self.first_delta: dict[str, float] = {}
        self.ended: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.ready = asyncio.Event()
        self.stub = stub
        self.reopened = 0
        self.call = self._open()
        self.task = asyncio.ensure_future(self._read())

    def _open(self) -> Any:
        # From the session's start (fresh sessions: a short replay), so a stream that
        # is still being set up when the first Send lands misses nothing.
        return self.stub.WatchChat(chat_service_pb2.WatchChatRequest(session_key=self.key))

    async def _read(self) -> None:
        while True:
            try:
                async for response in self.call:
                    self._on(response)
                return
            except asyncio.CancelledError:
                return
            except grpc.aio.AioRpcError as exc:
                # A few streams of a burst of thousands end CANCELLED on the client before
                # reaching the server; those (and only those) are opened again, twice at most.
                if self.events or exc.code() != grpc.StatusCode.CANCELLED or self.reopened >= 2:
                    return
                self.reopened += 1
                self.call = self._open()

    def _on(self, response: Any) -> None:
        self.events += 1
        if self.events >= self.ready_after:
            self.ready.set()
        event = response.event
        body = event.WhichOneof("body")
        if body == "delta":
            self.deltas += 1
            self.delta_chars += len(event.delta.text)
            if event.run_id not in self.first_delta:
                self.first_delta[event.run_id] = time.perf_counter()
        elif body in ("final", "error", "aborted"):
            self.ended[event.run_id].set()

    async def close(self) -> None:
        self.task.cancel()
        self.call.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def _open_watchers(
    target: str | list[str], keys: list[str], per_key: int, n_channels: int, ready_after: int = 1
) -> tuple[list[grpc.aio.Channel], dict[str, list[Watcher]]]:
    """`per_key` streams per session over `n_channels` channels; over several targets
    (replicas), at least one channel each, the streams taking them in turn."""
    targets = [target] if isinstance(target, str) else target
    n_channels = max(n_channels, len(targets))
    channels = [_channel(targets[i % len(targets)], local=True) for i in range(n_channels)]
    # Streams started on a channel still connecting can end CANCELLED at once.
    await asyncio.wait_for(asyncio.gather(*(c.channel_ready() for c in channels)), SETUP_TIMEOUT_S)
    stubs = [chat_service_pb2_grpc.ChatServiceStub(c) for c in channels]
    watchers: dict[str, list[Watcher]] = {k: [] for k in keys}
    n = 0
    for key in keys:
        for _ in range(per_key):
            watchers[key].append(Watcher(stubs[n % len(stubs)], key, ready_after))
            n += 1
    return channels, watchers


async def _prime(chat: Any, watchers: dict[str, list[Watcher]]) -> None:
    """One run per session, awaited at every watcher: all streams are then live."""
    runs = await asyncio.gather(
        *(chat.Send(chat_service_pb2.SendRequest(session_key=k, text="prime")) for k in watchers)
    )
    waits = [
        w.ended[run.run_id].wait()
        for run, ws in zip(runs, watchers.values(), strict=True)
        for w in ws
    ]
    await asyncio.wait_for(asyncio.gather(*waits), SETUP_TIMEOUT_S)


async def watch(spec: Spec) -> Result:
    """`sessions` sessions with `subscribers` WatchChat streams each; every rep sends
    `runs` messages to each session (queued back to back) and waits until every stream
    has seen every run end. Events/s = events received by all streams / time. The Sends
    go to `target`, the streams to `watch_target` (default: the same; a list: replicas,
    the streams spread over them)."""
    target = spec["target"]
    tag = uuid.uuid4().hex[:8]
    keys = [f"bench-watch-{tag}-{i}" for i in range(spec["sessions"])]
    await _create_sessions(target, keys)
    channels, watchers = await _open_watchers(
        spec.get("watch_target") or target, keys, spec["subscribers"], spec.get("channels", 1)
    )
    everyone = [w for ws in watchers.values() for w in ws]
    text = text_of(spec["text_chars"])
    async with _channel(target) as driver:
        chat = chat_service_pb2_grpc.ChatServiceStub(driver)
        try:
            await _prime(chat, watchers)

            async def one(rep: int) -> Result:
                return await with_cpu(spec, fan_out())

            async def fan_out() -> Result:
                before = sum(w.events for w in everyone)
                chars_before = sum(w.delta_chars for w in everyone)
                t0 = time.perf_counter()
                order = [k for _ in range(spec["runs"]) for k in keys]
                runs = await asyncio.gather(
                    *(
                        chat.Send(chat_service_pb2.SendRequest(session_key=k, text=text))
                        for k in order
                    )
                )
                waits = [
                    w.ended[run.run_id].wait()
                    for key, run in zip(order, runs, strict=True)
                    for w in watchers[key]
                ]
                timed_out = False
                try:
                    await asyncio.wait_for(asyncio.gather(*waits), spec["max_seconds"])
                except TimeoutError:
                    timed_out = True
                elapsed = time.perf_counter() - t0
                events = sum(w.events for w in everyone) - before
                chunks = (sum(w.delta_chars for w in everyone) - chars_before) / CHUNK_CHARS
                return {
                    "events": events,
                    "seconds": elapsed,
                    "events_per_s": events / elapsed,
                    "chunks_per_s": chunks / elapsed,
                    "timed_out": timed_out,
                    "streams": len(everyone),
                }

            return {"reps": await _reps(spec, one)}
        finally:
            await asyncio.gather(*(w.close() for w in everyone))
            for channel in channels:
                await channel.close()


async def first_delta(spec: Spec) -> Result:
    """Send -> first delta of that run at a WatchChat subscriber of the session, with
    `concurrency` sessions each sending again once its previous run has ended. The Sends
    go to `target`, the subscribers to `watch_target` (default: the same)."""
    target, concurrency = spec["target"], spec["concurrency"]
    tag = uuid.uuid4().hex[:8]
    keys = [f"bench-ttfd-{tag}-{i}" for i in range(concurrency)]
    await _create_sessions(target, keys)
    channels, watchers = await _open_watchers(spec.get("watch_target") or target, keys, 1, 1)
    text = text_of(spec["text_chars"])
    async with _channel(target) as driver:
        chat = chat_service_pb2_grpc.ChatServiceStub(driver)
        try:
            await _prime(chat, watchers)

            async def op(index: int) -> float:
                key = keys[index]
                watcher = watchers[key][0]
                t0 = time.perf_counter()
                run = await chat.Send(chat_service_pb2.SendRequest(session_key=key, text=text))
                await asyncio.wait_for(watcher.ended[run.run_id].wait(), SETUP_TIMEOUT_S)
                return watcher.first_delta[run.run_id] - t0

            await Bounded(concurrency, spec["warmup_ops"], spec["max_seconds"]).run(op)

            async def one(rep: int) -> Result:
                bounded = Bounded(concurrency, spec["max_ops"], spec["max_seconds"])
                return await with_cpu(spec, bounded.run(op))

            return {"reps": await _reps(spec, one)}
        finally:
            await asyncio.gather(*(w.close() for ws in watchers.values() for w in ws))
            for channel in channels:
                await channel.close()


# -- streamed replies: sessiond Chat vs the A2A SDK ---------------------------------------------


async def replies(spec: Spec) -> Result:
    """Streamed replies of `text_chars` characters, `concurrency` at a time: replies/s,
    time to the first event and to the first text chunk."""
    target, concurrency, peer = spec["target"], spec["concurrency"], spec["peer"]
    text = text_of(spec["text_chars"])
    async with _channel(target) as channel:
        start: Callable[[int], Any]
        is_text: Callable[[Any], bool]
        if peer == "sessiond":
            tag = uuid.uuid4().hex[:8]
            keys = [f"bench-chat-{tag}-{i}" for i in range(concurrency)]
            await _create_sessions(target, keys)
            chat = chat_service_pb2_grpc.ChatServiceStub(channel)

            def start(index: int) -> Any:
                return chat.Chat(chat_service_pb2.ChatRequest(session_key=keys[index], text=text))

            def is_text(response: Any) -> bool:
                return bool(response.event.HasField("delta"))

        else:
            from a2a.types import a2a_pb2, a2a_pb2_grpc

            a2a = a2a_pb2_grpc.A2AServiceStub(channel)  # type: ignore[no-untyped-call]

            def start(index: int) -> Any:
                message = a2a_pb2.Message(
                    message_id=uuid.uuid4().hex,
                    role=a2a_pb2.ROLE_USER,
                    parts=[a2a_pb2.Part(text=text)],
                )
                return a2a.SendStreamingMessage(a2a_pb2.SendMessageRequest(message=message))

            def is_text(response: Any) -> bool:
                return bool(response.HasField("artifact_update"))

        firsts: list[float] = []
        first_texts: list[float] = []
        counted = [0]

        async def op(index: int) -> None:
            t0 = time.perf_counter()
            got_first = got_text = False
            n = 0
            async for response in start(index):
                n += 1
                if not got_first:
                    firsts.append(time.perf_counter() - t0)
                    got_first = True
                if not got_text and is_text(response):
                    first_texts.append(time.perf_counter() - t0)
                    got_text = True
            counted[0] += n
            return None

        await Bounded(concurrency, spec["warmup_ops"], spec["max_seconds"]).run(op)

        async def one(rep: int) -> Result:
            firsts.clear()
            first_texts.clear()
            counted[0] = 0
            result = await Bounded(concurrency, spec["max_ops"], spec["max_seconds"]).run(op)
            result["events_per_s"] = counted[0] / result["seconds"]
            result["events_per_reply"] = counted[0] / max(1, result["ops"])
            result["first_event_p50_ms"] = percentile(firsts, 50) * 1000
            result["first_event_p99_ms"] = percentile(firsts, 99) * 1000
            result["first_text_p50_ms"] = percentile(first_texts, 50) * 1000
            result["first_text_p99_ms"] = percentile(first_texts, 99) * 1000
            return result

        return {"reps": await _reps(spec, one)}


# -- memory: idle WatchChat streams -------------------------------------------------------------


async def idle_streams(spec: Spec) -> Result:
    """Opens `streams` WatchChat streams over `sessions` sessions and `channels` channels,
    in batches of `batch` (each waits for its streams' replayed `create` event: thousands
    opened in one burst lose a few to CANCELLED before they reach the server), waits until
    every stream has also had a heartbeat, then reads the server's RSS."""
    target, pid, total = spec["target"], spec["server_pid"], spec["streams"]
    batch = spec.get("batch", 250)
    tag = uuid.uuid4().hex[:8]
    keys = [f"bench-idle-{tag}-{i}" for i in range(spec["sessions"])]
    await _create_sessions(target, keys)
    # Warm the server's code paths with one live stream first.
    warm_channels, warm = await _open_watchers(target, keys[:1], 1, 1, ready_after=2)
    await asyncio.wait_for(warm[keys[0]][0].ready.wait(), spec["max_seconds"])
    await asyncio.sleep(0.2)
    rss_before = rss_bytes(pid)
    loop = asyncio.get_running_loop()
    begin = loop.time()
    deadline = begin + spec["max_seconds"]
    channels = [_channel(target, local=True) for _ in range(spec["channels"])]
    await asyncio.wait_for(asyncio.gather(*(c.channel_ready() for c in channels)), SETUP_TIMEOUT_S)
    stubs = [chat_service_pb2_grpc.ChatServiceStub(c) for c in channels]
    everyone: list[Watcher] = []
    try:
        for start in range(0, total, batch):
            if loop.time() >= deadline:
                break
            group = [
                Watcher(stubs[i % len(stubs)], keys[i % len(keys)], ready_after=2)
                for i in range(start, min(total, start + batch))
            ]
            everyone += group
            # Polling flags: cheaper than a waiting task per stream.
            while loop.time() < deadline and not all(w.events for w in group):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        opened = loop.time() - begin
        while loop.time() < deadline and not all(w.ready.is_set() for w in everyone):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        live = sum(w.ready.is_set() for w in everyone)
        rss_after = rss_bytes(pid)
        return {
            "streams": total,
            "live": live,
            "reopened": sum(w.reopened for w in everyone),
            "rss_before": rss_before,
            "rss_after": rss_after,
            "bytes_per_stream": (rss_after - rss_before) / max(1, live),
            "seconds_to_open": opened,
            "seconds_to_live": loop.time() - begin,
        }
    finally:
        await asyncio.gather(*(w.close() for w in everyone + warm[keys[0]]))
        for channel in channels + warm_channels:
            await channel.close()


SCENARIOS: dict[str, Callable[[Spec], Awaitable[Result]]] = {
    "unary": unary,
    "echo_stream": echo_stream,
    "watch": watch,
    "first_delta": first_delta,
    "replies": replies,
    "idle_streams": idle_streams,
}


async def _run_all(plan: Spec) -> list[Result]:
    """Runs the plan's scenarios in order; around each, the CPU time of every server
    process (read from /proc; of a process tree for `trees`) and of this process."""
    from bench import replica_load  # it builds on this module

    scenarios = SCENARIOS | replica_load.SCENARIOS
    processes: Processes = {name: (pid, False) for name, pid in plan["servers"].items()}
    processes |= {name: (pid, True) for name, pid in plan.get("trees", {}).items()}
    out = []
    for spec in plan["scenarios"]:
        spec.setdefault("cpu", processes)
        before = cpu_now(processes)
        cpu0 = time.process_time()
        wall0 = time.perf_counter()
        result = await scenarios[spec["scenario"]](spec)
        result["wall_s"] = time.perf_counter() - wall0
        result["load_cpu_s"] = time.process_time() - cpu0
        after = cpu_now(processes)
        result["server_cpu_s"] = {name: after[name] - before[name] for name in processes}
        out.append({"name": spec["name"], "spec": spec, "result": result})
        print(f"  {spec['name']}: {result['wall_s']:.1f}s", file=sys.stderr, flush=True)
    return out


def main() -> None:
    plan: Spec = json.loads(sys.stdin.read() if sys.argv[1:] == ["-"] else sys.argv[1])
    results = loops.run(_run_all(plan), plan.get("loop", loops.default_loop()))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
