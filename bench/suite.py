"""The suite: starts the servers, runs the load generator, writes and prints the results.

    python -m bench [--quick] [--out bench/results] [--loop uvloop|asyncio] [--no-ghz]

Servers (each a process of its own on 127.0.0.1, a free port): the baseline echo service,
sessiond (`sessiond serve`, echo backend without delay, every 8-character chunk its own
delta), the A2A SDK peer, and for the memory figure a fresh sessiond. The load generator
(bench/load.py) is another process; ghz, where Go is present, a third.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import ghz, loops, meta, replicas, report
from bench.cluster import running_cluster
from bench.procs import (
    python,
    run_load,
    sessiond_env,
    start_server,
    start_servers,
    tree_cpu_seconds,
)

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = (1, 16, 64)
SUBSCRIBERS = (1, 100, 1000)
# Characters per streamed reply: 400 = 50 chunks of 8 (fan-out), 200 = 25 (replies).
FANOUT_TEXT = 400
REPLY_TEXT = 200


def _profile(quick: bool) -> dict[str, Any]:
    """Counts and time bounds of every loop (full run: about 3-4 minutes on 2 cores)."""
    if quick:
        return {
            "reps": 1,
            "unary": {"max_ops": 200, "max_seconds": 0.2, "warmup_ops": 20},
            "stream": {"max_ops": 50, "max_seconds": 0.2},
            "watch_runs": {1: 2, 10: 1, 20: 1},
            "subscribers": (1, 10, 20),
            "concurrent_runs": 10,
            "watch_seconds": 5.0,
            "ttfd": {"max_ops": 20, "max_seconds": 0.3, "warmup_ops": 2},
            "replies": {"max_ops": 20, "max_seconds": 0.3, "warmup_ops": 2},
            "idle": {"streams": 200, "sessions": 10, "channels": 2, "max_seconds": 20.0},
            "heartbeat_ms": 300,
            "ghz": {"max_ops": 200, "max_seconds": 0.3},
            "loops": False,
            "loop_rounds": 1,
        }
    return {
        "reps": 3,
        "unary": {"max_ops": 20_000, "max_seconds": 1.0, "warmup_ops": 300},
        "stream": {"max_ops": 20_000, "max_seconds": 1.5},
        "watch_runs": {1: 100, 100: 10, 1000: 2},
        "subscribers": SUBSCRIBERS,
        "concurrent_runs": 100,
        "watch_seconds": 10.0,
        "ttfd": {"max_ops": 5_000, "max_seconds": 1.5, "warmup_ops": 20},
        "replies": {"max_ops": 5_000, "max_seconds": 1.5, "warmup_ops": 20},
        "idle": {"streams": 10_000, "sessions": 100, "channels": 20, "max_seconds": 90.0},
        "heartbeat_ms": 8000,
        "ghz": {"max_ops": 50_000, "max_seconds": 1.5},
        "loops": True,
        "loop_rounds": 2,
    }


def _channels(streams: int) -> int:
    return max(1, min(20, streams // 100))


def plan(profile: dict[str, Any], targets: dict[str, str]) -> list[dict[str, Any]]:
    """The scenarios, in order, with their bounds.

    Each sessiond figure runs right after the baseline it is divided by (the machine's
    speed drifts over minutes, and a ratio of two figures taken apart drifts with it);
    `main` runs the plan once per repetition (`merge_round`)."""
    reps = profile["reps"]
    echo, sessiond = targets["echo"], targets["sessiond"]
    scenarios: list[dict[str, Any]] = []
    for c in CONCURRENCY:
        for name, target, method in (
            ("echo_unary", echo, "echo"),
            ("get_session", sessiond, "get_session"),
            ("send", sessiond, "send"),
        ):
            scenarios.append(
                {"name": f"{name}@{c}", "scenario": "unary", "target": target, "method": method}
                | {"concurrency": c, "reps": reps}
                | profile["unary"]
            )
        scenarios.append(
            {"name": f"first_delta@{c}", "scenario": "first_delta", "target": sessiond}
            | {"concurrency": c, "reps": reps, "text_chars": REPLY_TEXT}
            | profile["ttfd"]
        )
    subscribers = profile["subscribers"]
    runs = profile["concurrent_runs"]
    for c in sorted({*CONCURRENCY, *subscribers, runs}):
        scenarios.append(
            {"name": f"echo_stream@{c}", "scenario": "echo_stream", "target": echo}
            | {"concurrency": c, "channels": _channels(c), "reps": reps}
            | {"text_chars": FANOUT_TEXT, "warmup_ops": min(c, 64)}
            | profile["stream"]
        )
        if c in subscribers:
            scenarios.append(
                {"name": f"fanout@{c}", "scenario": "watch", "target": sessiond}
                | {"sessions": 1, "subscribers": c, "channels": _channels(c), "reps": reps}
                | {"runs": profile["watch_runs"][c], "text_chars": FANOUT_TEXT}
                | {"max_seconds": profile["watch_seconds"]}
            )
        if c == runs:
            scenarios.append(
                {"name": f"concurrent_runs@{runs}", "scenario": "watch", "target": sessiond}
                | {"sessions": runs, "subscribers": 1, "channels": _channels(runs), "reps": reps}
                | {"runs": 1, "text_chars": FANOUT_TEXT, "max_seconds": profile["watch_seconds"]}
            )
    if "a2a" in targets:
        for c in CONCURRENCY:
            for peer in ("sessiond", "a2a"):
                scenarios.append(
                    {"name": f"replies_{peer}@{c}", "scenario": "replies", "peer": peer}
                    | {"target": targets[peer], "concurrency": c, "reps": reps}
                    | {"text_chars": REPLY_TEXT}
                    | profile["replies"]
                )
    return scenarios


def loop_plan(profile: dict[str, Any], targets: dict[str, str], loop: str) -> list[dict[str, Any]]:
    """A short comparison of event loops: the same load against servers on `loop`
    (2 repetitions a round)."""
    reps = min(profile["reps"], 2)
    return [
        {"name": f"loop_{loop}_echo_unary@16", "scenario": "unary", "target": targets["echo"]}
        | {"method": "echo", "concurrency": 16, "reps": reps}
        | profile["unary"],
        {"name": f"loop_{loop}_get_session@16", "scenario": "unary"}
        | {"target": targets["sessiond"], "method": "get_session", "concurrency": 16}
        | {"reps": reps}
        | profile["unary"],
        {"name": f"loop_{loop}_echo_stream@100", "scenario": "echo_stream"}
        | {"target": targets["echo"], "concurrency": 100, "channels": 1, "reps": reps}
        | {"text_chars": FANOUT_TEXT, "warmup_ops": 100}
        | profile["stream"],
        {"name": f"loop_{loop}_fanout@100", "scenario": "watch", "target": targets["sessiond"]}
        | {"sessions": 1, "subscribers": 100, "channels": 1, "reps": reps, "runs": 4}
        | {"text_chars": FANOUT_TEXT, "max_seconds": profile["watch_seconds"]},
    ]


def measure_idle(
    work: Path, loop: str, profile: dict[str, Any], cpu: dict[str, Any]
) -> dict[str, Any]:
    """Server RSS per idle WatchChat stream, on a fresh sessiond: heartbeats on (each
    stream has had one when RSS is read), no limit on concurrent calls."""
    idle = start_server(
        "sessiond-idle",
        [python(), "-m", "sessiond", "serve"],
        work,
        env=sessiond_env(
            work / "idle.db",
            loop,
            SESSIOND_HEARTBEAT_MS=str(profile["heartbeat_ms"]),
            SESSIOND_MAX_CONCURRENT_RPCS="0",
        ),
    )
    try:
        spec = {"name": "idle_streams", "scenario": "idle_streams", "target": idle.target}
        spec |= {"server_pid": idle.pid} | profile["idle"]
        (item,) = run_load([spec], {"sessiond": idle}, loop, timeout=300)
        result: dict[str, Any] = item["result"]
        return result
    finally:
        cpu["servers"]["sessiond-idle"] = idle.cpu()
        idle.stop()


def compare_loops(work: Path, loop: str, profile: dict[str, Any]) -> dict[str, Any]:
    """The loop comparison: servers restarted on each loop, the same load (on `loop`),
    in alternating rounds (A B A B) so that other work on the machine weighs on both."""
    other = "asyncio" if loop == "uvloop" else "uvloop"
    if other == "uvloop" and not loops.have_uvloop():
        return {}
    out: dict[str, Any] = {}
    for round_ in range(profile["loop_rounds"]):
        for server_loop in (loop, other):
            group = start_servers(work, server_loop, False, suffix=f"-{server_loop}{round_}")
            try:
                targets = {name: s.target for name, s in group.items()}
                plan_ = loop_plan(profile, targets, server_loop)
                for item in run_load(plan_, group, loop, timeout=300):
                    if item["name"] in out:
                        out[item["name"]]["reps"] += item["result"]["reps"]
                    else:
                        out[item["name"]] = item["result"]
            finally:
                for server in group.values():
                    server.stop()
    return out


def selected(name: str, patterns: list[str]) -> bool:
    """`--only`: a pattern ending in @<count> names one scenario; any other is a prefix."""
    for pattern in patterns:
        exact = pattern.rpartition("@")[2].isdigit()
        if name == pattern or (not exact and name.startswith(pattern)):
            return True
    return False


def merge_round(results: dict[str, Any], name: str, result: dict[str, Any]) -> None:
    """Adds one round's result of a scenario: its repetitions are appended, its CPU and
    wall times summed, send statuses counted together.

    The plan runs once per repetition, so every repetition of a sessiond figure sits
    right beside one of its baseline's: a drift of the machine's speed over the minutes
    of a run moves both alike instead of the ratio."""
    merged = results.get(name)
    if merged is None:
        results[name] = result
        return
    merged["reps"].extend(result["reps"])
    merged["wall_s"] = merged.get("wall_s", 0.0) + result.get("wall_s", 0.0)
    merged["load_cpu_s"] = merged.get("load_cpu_s", 0.0) + result.get("load_cpu_s", 0.0)
    servers = merged.setdefault("server_cpu_s", {})
    for server, seconds in result.get("server_cpu_s", {}).items():
        servers[server] = servers.get(server, 0.0) + seconds
    if "send_status" in result:
        statuses = merged.setdefault("send_status", {})
        for status, count in result["send_status"].items():
            statuses[status] = statuses.get(status, 0) + count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--loop", choices=loops.LOOPS, default=loops.default_loop())
    parser.add_argument("--no-ghz", action="store_true", help="skip ghz even where Go is present")
    parser.add_argument("--no-a2a", action="store_true", help="skip the A2A SDK peer")
    parser.add_argument(
        "--no-replicas", action="store_true", help="skip the replicas on PostgreSQL + NATS"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="PREFIX",
        help="run only scenarios whose name starts with PREFIX, or is exactly PREFIX when it "
        "ends in @<count> (send@1 is not send@16); repeatable; for profiling and "
        "before/after checks: no ghz, memory or loop comparison unless named; a replica "
        "scenario brings the SQLite scenario it is compared with",
    )
    parser.add_argument(
        "--reps",
        type=int,
        default=0,
        metavar="N",
        help="repetitions of every scenario (default: 3, or 1 with --quick); more steady the "
        "medians on a busy machine, at N/3 times the run time",
    )
    args = parser.parse_args(argv)
    if args.reps < 0:
        parser.error("--reps must be positive")
    profile = _profile(args.quick)
    if args.reps:
        profile["reps"] = args.reps
    began = time.monotonic()
    args.out.mkdir(parents=True, exist_ok=True)
    with_a2a = meta.a2a_available() and not args.no_a2a
    results: dict[str, Any] = {}
    cpu: dict[str, Any] = {"servers": {}, "load": {}}
    with tempfile.TemporaryDirectory(prefix="sessiond-bench-") as tmp:
        work = Path(tmp)
        servers = start_servers(work, args.loop, with_a2a)
        try:
            targets = {name: s.target for name, s in servers.items()}
            scenarios = plan(profile, targets)
            with_replicas = meta.replicas_available() and not args.no_replicas
            replica_specs = replicas.plan(args.quick) if with_replicas else []
            if args.only:
                replica_specs = [s for s in replica_specs if selected(s["name"], args.only)]
                wanted = replicas.references(replica_specs)
                scenarios = [
                    s for s in scenarios if selected(s["name"], args.only) or s["name"] in wanted
                ]
            rounds = profile["reps"]
            print(
                f"bench: {len(scenarios) + len(replica_specs)} scenarios x {rounds} rounds"
                f" ({args.loop})",
                file=sys.stderr,
            )
            # PostgreSQL, NATS and the replicas only for the rounds, stopped whatever happens.
            with contextlib.ExitStack() as stack:
                cluster = None
                if replica_specs:
                    env = sessiond_env(work / "unused.db", args.loop)
                    cluster = stack.enter_context(running_cluster(work, env))
                for _ in range(rounds):
                    one_each = [s | {"reps": 1} for s in scenarios]
                    done = run_load(one_each, servers, args.loop, timeout=600)
                    if cluster is not None:
                        done += replicas.run_round(replica_specs, cluster, args.loop)
                    for item in done:
                        merge_round(results, item["name"], item["result"])
                if cluster is not None:
                    cpu["servers"] |= replicas.cpu_totals(cluster, tree_cpu_seconds)
            ghz_results = (
                {} if args.no_ghz else ghz.run_all(ROOT, servers, CONCURRENCY, profile["ghz"], work)
            )
        finally:
            for server in servers.values():
                cpu["servers"][server.name] = server.cpu() if server.process.poll() is None else 0
                server.stop()
        if not args.only or "idle_streams" in args.only:
            results["idle_streams"] = measure_idle(work, args.loop, profile, cpu)
        loop_results: dict[str, Any] = {}
        if profile["loops"] and (not args.only or "loops" in args.only):
            loop_results = compare_loops(work, args.loop, profile)
    for name, result in results.items():
        cpu["load"][name] = {
            "load_cpu_s": result.get("load_cpu_s", 0.0),
            "server_cpu_s": result.get("server_cpu_s", {}),
            "wall_s": result.get("wall_s", 0.0),
        }
    document = report.build(
        results=results,
        ghz_results=ghz_results,
        loop_results=loop_results,
        cpu=cpu,
        meta={
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "commit": meta.git_commit(),
            "quick": args.quick,
            "loop": args.loop,
            "a2a": with_a2a,
            "ghz": bool(ghz_results),
            "machine": meta.machine(),
            "duration_s": round(time.monotonic() - began, 1),
        },
    )
    # A quick run (tiny counts) never replaces the figures of a full one.
    stem = "quick" if args.quick else "latest"
    (args.out / f"{stem}.json").write_text(json.dumps(document, indent=2) + "\n")
    table = report.markdown(document)
    (args.out / f"{stem}.md").write_text(table)
    print(table)
    return 0
