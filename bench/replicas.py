"""The replica scenarios of the suite: sessiond on PostgreSQL + NATS (bench/cluster.py),
1 replica (A) and 2 (A and B), beside the SQLite server's figures of the same round.

- `replica1_send@C` / `replica2_send@C`: durable Send RPC/s with C in flight, to A / to A
  and B in turn (one channel, round robin over both addresses) -> `send@C` (SQLite);
- `replica1_fanout@S` / `replica2_fanout@S`: WatchChat fan-out to S subscribers of one
  session, the runs sent to A, the streams on A / spread over A and B -> `fanout@S`;
- `replica_first_delta_same@1` / `_across@1`: Send on A, the subscriber on A / on B ->
  `first_delta@1`;
- `replica_cost@N`: store round trips, transactions and bus messages per Send and per
  delta (bench/replica_load.py), N sessions each watched on A and on B.

A plan names its targets by role (`a`, `b`, `ab`), bound to the cluster's addresses once it
runs (`bind`): the scenarios are planned and selected (`--only`) before anything starts.
Every round runs these after the round's SQLite scenarios, in a load generator of its
own that also measures the CPU of the replicas, of PostgreSQL (the postmaster and its
backends) and of nats-server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.cluster import Cluster
from bench.procs import run_load

Spec = dict[str, Any]
SEND_CONCURRENCY = (16, 64)
FANOUT_TEXT = 400
REPLY_TEXT = 200
CHUNK_TEXT = 8


def _profile(quick: bool) -> dict[str, Any]:
    if quick:
        return {
            "unary": {"max_ops": 100, "max_seconds": 0.3, "warmup_ops": 10},
            "subscribers": 10,
            "fanout_runs": 1,
            "watch_seconds": 5.0,
            "ttfd": {"max_ops": 10, "max_seconds": 0.3, "warmup_ops": 2},
            "cost": [{"sessions": n, "sends": 8, "warmup_ops": 4} for n in (1, 4)],
        }
    return {
        "unary": {"max_ops": 20_000, "max_seconds": 1.0, "warmup_ops": 300},
        "subscribers": 100,
        "fanout_runs": 10,
        "watch_seconds": 15.0,
        "ttfd": {"max_ops": 5_000, "max_seconds": 1.5, "warmup_ops": 20},
        # Sessions (one Send each at a time) and Sends per window.
        "cost": [
            {"sessions": 1, "sends": 80, "warmup_ops": 8},
            {"sessions": 16, "sends": 160, "warmup_ops": 32},
        ],
    }


def plan(quick: bool) -> list[Spec]:
    """The replica scenarios of one round, each naming its SQLite `reference`."""
    profile = _profile(quick)
    out: list[Spec] = []
    for c in SEND_CONCURRENCY:
        for replicas, target in ((1, "a"), (2, "ab")):
            out.append(
                {"name": f"replica{replicas}_send@{c}", "scenario": "unary", "target": target}
                | {"method": "send", "concurrency": c, "reference": f"send@{c}"}
                | profile["unary"]
            )
    s = profile["subscribers"]
    for replicas, watch in ((1, ["a"]), (2, ["a", "b"])):
        out.append(
            {"name": f"replica{replicas}_fanout@{s}", "scenario": "watch", "target": "a"}
            | {"watch_target": watch, "sessions": 1, "subscribers": s, "channels": 1}
            | {"runs": profile["fanout_runs"], "text_chars": FANOUT_TEXT}
            | {"max_seconds": profile["watch_seconds"], "reference": f"fanout@{s}"}
        )
    for where, subscriber in (("same", "a"), ("across", "b")):
        out.append(
            {"name": f"replica_first_delta_{where}@1", "scenario": "first_delta", "target": "a"}
            | {"watch_target": subscriber, "concurrency": 1, "text_chars": REPLY_TEXT}
            | {"reference": "first_delta@1"}
            | profile["ttfd"]
        )
    for cost in profile["cost"]:
        out.append(
            {"name": f"replica_cost@{cost['sessions']}", "scenario": "cost", "target": "a"}
            | {"watch_target": ["a", "b"], "short_chars": CHUNK_TEXT, "long_chars": FANOUT_TEXT}
            | cost
            | {"max_seconds": 20.0}
        )
    return [spec | {"reps": 1} for spec in out]


def references(specs: list[Spec]) -> set[str]:
    """The SQLite scenarios the replica scenarios are compared with."""
    return {spec["reference"] for spec in specs if "reference" in spec}


def bind(specs: list[Spec], cluster: Cluster) -> list[Spec]:
    """The specs with their roles replaced by the replicas' addresses."""
    a, b = cluster.targets()
    roles = {"a": a, "b": b, "ab": f"ipv4:{a},{b}"}

    def resolve(value: Any) -> Any:
        if isinstance(value, list):
            return [roles[v] for v in value]
        return roles[value]

    bound = []
    for spec in specs:
        spec = spec | {"target": resolve(spec["target"])}
        if "watch_target" in spec:
            spec["watch_target"] = resolve(spec["watch_target"])
        if spec["scenario"] == "cost":
            spec |= cluster.spec()
        bound.append(spec)
    return bound


def processes(cluster: Cluster) -> dict[str, int]:
    """Process trees whose CPU is measured beside the replicas'."""
    return {"postgres": cluster.postgres_pid, "nats": cluster.nats.pid}


def run_round(specs: list[Spec], cluster: Cluster, loop: str) -> list[dict[str, Any]]:
    servers = {replica.name: replica for replica in cluster.replicas}
    return run_load(bind(specs, cluster), servers, loop, timeout=600, trees=processes(cluster))


def cpu_totals(cluster: Cluster, measure: Callable[[int], float]) -> dict[str, float]:
    """CPU seconds of each part of the cluster over its life so far."""
    totals = {replica.name: replica.cpu() for replica in cluster.replicas}
    return totals | {name: measure(pid) for name, pid in processes(cluster).items()}
