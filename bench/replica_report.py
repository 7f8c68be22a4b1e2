"""The "Replicas (PostgreSQL + NATS)" part of the results (bench/replicas.py's scenarios):
its rows in the JSON document and its section of the markdown."""

from __future__ import annotations

import statistics
from typing import Any

from bench import markdown as md
from bench.stats import counts_of, metric, paired_ratio

Doc = dict[str, Any]
PROCESSES = ("sessiond", "replica-a", "replica-b", "postgres", "nats")
COST_KEYS = ("statements", "write_tx", "read_tx", "lock_ms", "nats_in", "nats_out")
COST_HEADER = [
    "store round trips (statements)",
    "write transactions",
    "read transactions",
    "writers' lock held (ms, statements logged)",
    "NATS msgs in (published)",
    "NATS msgs out (delivered)",
]


def _ratio(value: dict[str, Any] | None, base: dict[str, Any] | None) -> float | None:
    return paired_ratio(value, base) if value and base and base["median"] else None


def _row(
    results: dict[str, Any], measurement: str, in_flight: str, unit: str, names: tuple[str, ...]
) -> Doc:
    """`names`: the SQLite scenario, then A's and A+B's, each `name:key`."""
    sqlite, one, two = (metric(results, *n.split(":")) for n in names)
    return {
        "measurement": measurement,
        "in_flight": in_flight,
        "unit": unit,
        "sqlite": sqlite,
        "one": one,
        "two": two,
        "two_vs_one": _ratio(two, one),
        "one_vs_sqlite": _ratio(one, sqlite),
    }


def rows(results: dict[str, Any]) -> list[Doc]:
    out = []
    for c in counts_of(results, "replica1_send"):
        names = (f"send@{c}", f"replica1_send@{c}", f"replica2_send@{c}")
        out.append(
            _row(
                results,
                "durable Send RPC/s",
                str(c),
                "RPC/s",
                tuple(f"{n}:ops_per_s" for n in names),
            )
        )
    for s in counts_of(results, "replica1_fanout"):
        names = (f"fanout@{s}", f"replica1_fanout@{s}", f"replica2_fanout@{s}")
        for label, key in (("events/s", "events_per_s"), ("text chunks/s", "chunks_per_s")):
            measurement = f"WatchChat fan-out {label}"
            keyed = tuple(f"{n}:{key}" for n in names)
            out.append(_row(results, measurement, f"{s} subscribers", label, keyed))
    if "replica_first_delta_same@1" in results:
        names = ("first_delta@1", "replica_first_delta_same@1", "replica_first_delta_across@1")
        for pct in ("p50", "p99"):
            keyed = tuple(f"{n}:{pct}_ms" for n in names)
            out.append(_row(results, f"time to first delta {pct}", "1", "ms", keyed))
    return out


def cpu_rows(results: dict[str, Any]) -> list[Doc]:
    """Server CPU per Send (with its run), per process, from the Send repetitions."""
    out = []
    for c in counts_of(results, "replica1_send"):
        for name in (f"send@{c}", f"replica1_send@{c}", f"replica2_send@{c}"):
            reps = [r for r in results.get(name, {}).get("reps", []) if r.get("ops")]
            if not reps or "server_cpu_s" not in reps[0]:
                continue
            per_send = {
                p: statistics.median(r["server_cpu_s"][p] / r["ops"] * 1000 for r in reps)
                for p in PROCESSES
                if p in reps[0]["server_cpu_s"]
            }
            per_send["total"] = sum(per_send.values())
            rate = statistics.median(r["ops_per_s"] for r in reps)
            out.append({"scenario": name, "in_flight": c, "rps": rate, "cpu_ms": per_send})
    return out


def cost(results: dict[str, Any]) -> list[Doc]:
    """Per number of sessions in flight, medians over the rounds of what a Send (with its
    run of one delta) and a further delta cost."""
    out = []
    for n in counts_of(results, "replica_cost"):
        reps = results[f"replica_cost@{n}"]["reps"]

        def median(key: str, reps: list[Doc] = reps) -> float:
            # Two decimals, and no -0.00 (a statement of the replicas' background work
            # that fell into one window but not the other).
            return round(statistics.median(float(r[key]) for r in reps), 2) + 0.0

        long = reps[0]["windows"][1]
        out.append(
            {
                "in_flight": n,
                "sends": sum(int(w["ops"]) for r in reps for w in r["windows"]),
                "deltas": long["deltas_sent"] // max(1, long["ops"]),
                "durable_events_per_send": median("durable_events_per_send"),
                "per_send": {k: median(f"{k}_per_send") for k in COST_KEYS},
                "per_delta": {k: median(f"{k}_per_delta") for k in COST_KEYS},
            }
        )
    return out


def build(results: dict[str, Any]) -> Doc:
    return {"rows": rows(results), "cpu": cpu_rows(results), "cost": cost(results)}


# -- markdown ------------------------------------------------------------------------------


def markdown(doc: Doc) -> list[str]:
    if not doc["rows"] and not doc["cost"]:
        return []
    out = [
        "",
        "## Replicas (PostgreSQL + NATS)",
        "",
        "sessiond replicas on one PostgreSQL (pgserver, synchronous_commit off) and one"
        " nats-server, on the same machine as everything else. A: 1 replica (load and"
        " streams on replica A); A+B: 2 replicas (Sends to A and B in turn; fan-out: runs"
        " on A, streams spread over A and B; time to first delta: Send on A, subscriber on"
        " B, against the subscriber on A). Each ratio is the median of the per-round"
        " ratios (the SQLite server's figure is that of the same round).",
        "",
    ]
    lines = [
        [
            r["measurement"],
            r["in_flight"],
            f"{md.cell(r['sqlite'], r['unit'])} {r['unit']}",
            f"{md.cell(r['one'], r['unit'])} {r['unit']}",
            f"{md.cell(r['two'], r['unit'])} {r['unit']}",
            _times(r["two_vs_one"]),
            _times(r["one_vs_sqlite"]),
        ]
        for r in doc["rows"]
    ]
    header = ["measurement", "in flight", "SQLite server", "A", "A+B", "A+B / A", "A / SQLite"]
    out += md.table(header, lines)
    if doc["cpu"]:
        out += ["", "Server CPU per Send with its run (ms; median of the repetitions):", ""]
        out += md.table(
            ["scenario", "in flight", "RPC/s", *PROCESSES, "total"],
            [
                [
                    c["scenario"],
                    str(c["in_flight"]),
                    md.num(c["rps"]),
                    *[md.num(c["cpu_ms"].get(p), "ms") for p in PROCESSES],
                    md.num(c["cpu_ms"]["total"], "ms"),
                ]
                for c in doc["cpu"]
            ],
        )
    if doc["cost"]:
        first = doc["cost"][0]
        out += [
            "",
            f"Cost per Send and per delta (Sends to A, each session watched on A and on B, one"
            " Send at a time per session; a Send's run records"
            f" {md.num(first['durable_events_per_send'])} durable events; a further delta is"
            f" the difference between replies of 1 delta and of {first['deltas']}):",
            "",
        ]
        lines = []
        for c in doc["cost"]:
            at = f"{c['in_flight']} in flight"
            lines.append([f"Send (its run: one delta), {at}", *_costs(c["per_send"])])
            lines.append([f"further delta, {at}", *_costs(c["per_delta"])])
        out += md.table(["per", *COST_HEADER], lines)
    return out


def _times(value: float | None) -> str:
    return "—" if value is None else f"{md.num(value)}×"


def _costs(per: dict[str, float]) -> list[str]:
    return [md.num(per[k]) for k in COST_KEYS]
