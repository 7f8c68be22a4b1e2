"""Results -> the JSON document (bench/results/latest.json) and its markdown table."""

from __future__ import annotations

from typing import Any

from bench import markdown as md
from bench import replica_report
from bench.stats import counts_of, metric, paired_ratio, ratio, summary

KB = 1024
MAX_BYTES_PER_STREAM = 50 * KB

Doc = dict[str, Any]


def _row(
    measurement: str,
    in_flight: int | str,
    unit: str,
    value: dict[str, Any] | None,
    baseline: dict[str, Any] | None,
    baseline_name: str,
    target: tuple[str, float] | None = None,
    *,
    group: str,
) -> Doc:
    r = paired_ratio(value, baseline) if value and baseline else None
    met = None
    if target is not None and r is not None:
        op, bound = target
        met = r >= bound if op == ">=" else r <= bound
    return {
        "group": group,
        "measurement": measurement,
        "in_flight": in_flight,
        "unit": unit,
        "value": value,
        "baseline": baseline,
        "baseline_name": baseline_name,
        "ratio": r,
        "target": f"{target[0]} {target[1]:g}" if target else None,
        "met": met,
    }


def rows(results: dict[str, Any]) -> list[Doc]:
    out: list[Doc] = []
    for c in counts_of(results, "get_session"):
        echo = f"echo_unary@{c}"
        out.append(
            _row(
                "GetSession RPC/s",
                c,
                "RPC/s",
                metric(results, f"get_session@{c}", "ops_per_s"),
                metric(results, echo, "ops_per_s"),
                "echo unary RPC/s",
                (">=", 0.6),
                group="get_session",
            )
        )
        for pct in ("p50", "p99"):
            out.append(
                _row(
                    f"GetSession latency {pct}",
                    c,
                    "ms",
                    metric(results, f"get_session@{c}", f"{pct}_ms"),
                    metric(results, echo, f"{pct}_ms"),
                    f"echo unary {pct}",
                    group="get_session_latency",
                )
            )
    for c in counts_of(results, "send"):
        out.append(
            _row(
                "durable Send RPC/s",
                c,
                "RPC/s",
                metric(results, f"send@{c}", "ops_per_s"),
                metric(results, f"echo_unary@{c}", "ops_per_s"),
                "echo unary RPC/s",
                (">=", 0.4),
                group="send",
            )
        )
    # The second row counts the same text in the echo agent's chunks: a lagging
    # subscriber's waiting deltas merge into one event, which events/s counts once.
    fanout_rows: tuple[tuple[str, str, tuple[str, float] | None, str], ...] = (
        ("events/s", "events_per_s", (">=", 0.5), "fanout"),
        ("text chunks/s", "chunks_per_s", None, "fanout_chunks"),
    )
    for s in counts_of(results, "fanout"):
        baseline = metric(results, f"echo_stream@{s}", "events_per_s")
        for unit, key, target, group in fanout_rows:
            out.append(
                _row(
                    f"WatchChat fan-out {unit}",
                    f"{s} subscribers",
                    unit.removeprefix("text "),
                    metric(results, f"fanout@{s}", key),
                    baseline,
                    f"echo stream msgs/s ({s} streams)",
                    target,
                    group=group,
                )
            )
    for n in counts_of(results, "concurrent_runs"):
        out.append(
            _row(
                "WatchChat events/s, concurrent runs",
                f"{n} runs",
                "events/s",
                metric(results, f"concurrent_runs@{n}", "events_per_s"),
                metric(results, f"echo_stream@{n}", "events_per_s"),
                f"echo stream msgs/s ({n} streams)",
                group="concurrent_runs",
            )
        )
    for c in counts_of(results, "first_delta"):
        for pct, bound in (("p50", 2.0), ("p99", 3.0)):
            out.append(
                _row(
                    f"time to first delta {pct}",
                    c,
                    "ms",
                    metric(results, f"first_delta@{c}", f"{pct}_ms"),
                    metric(results, f"echo_unary@{c}", f"{pct}_ms"),
                    f"echo unary RTT {pct}",
                    ("<=", bound),
                    group="first_delta",
                )
            )
    for c in counts_of(results, "replies_sessiond"):
        if f"replies_a2a@{c}" not in results:
            continue
        out.append(
            _row(
                "streamed replies/s vs A2A",
                c,
                "replies/s",
                metric(results, f"replies_sessiond@{c}", "ops_per_s"),
                metric(results, f"replies_a2a@{c}", "ops_per_s"),
                "A2A SDK replies/s",
                (">=", 3.0),
                group="a2a",
            )
        )
        out.append(
            _row(
                "time to first event p50 vs A2A",
                c,
                "ms",
                metric(results, f"replies_sessiond@{c}", "first_event_p50_ms"),
                metric(results, f"replies_a2a@{c}", "first_event_p50_ms"),
                "A2A SDK p50",
                ("<=", 1 / 3),
                group="a2a",
            )
        )
        out.append(
            _row(
                "time to first text p50 vs A2A",
                c,
                "ms",
                metric(results, f"replies_sessiond@{c}", "first_text_p50_ms"),
                metric(results, f"replies_a2a@{c}", "first_text_p50_ms"),
                "A2A SDK p50",
                group="a2a_text",
            )
        )
    idle = results.get("idle_streams")
    if idle is not None:
        per = float(idle["bytes_per_stream"])
        one = {"median": per, "min": per, "max": per}
        out.append(
            {
                "group": "memory",
                "measurement": "server RSS per idle WatchChat stream",
                "in_flight": f"{idle['live']} streams",
                "unit": "bytes",
                "value": one,
                "baseline": None,
                "baseline_name": "",
                "ratio": None,
                "target": f"<= {MAX_BYTES_PER_STREAM} bytes",
                "met": per <= MAX_BYTES_PER_STREAM and idle["live"] == idle["streams"],
            }
        )
    return out


TARGETS: dict[str, str] = {
    "get_session": "GetSession >= 0.6x echo unary RPC/s",
    "send": "durable Send >= 0.4x echo unary RPC/s",
    "fanout": "WatchChat fan-out >= 0.5x echo streaming at 1/100/1000 subscribers",
    "first_delta": "time to first delta <= 2x echo unary RTT at p50, <= 3x at p99",
    "memory": "<= 50 KB per idle WatchChat stream",
    "a2a": ">= 3x A2A streamed replies/s, <= 1/3 of its time to first event",
}


def targets(table: list[Doc]) -> list[Doc]:
    out = []
    for group, text in TARGETS.items():
        checked = [r for r in table if r["group"] == group and r["met"] is not None]
        out.append(
            {
                "target": text,
                "met": bool(checked) and all(r["met"] for r in checked),
                "measured": bool(checked),
                "misses": [
                    f"{r['measurement']} @ {r['in_flight']}" for r in checked if not r["met"]
                ],
            }
        )
    return out


def build(
    *,
    results: dict[str, Any],
    ghz_results: dict[str, Any],
    loop_results: dict[str, Any],
    cpu: dict[str, Any],
    meta: dict[str, Any],
) -> Doc:
    table = rows(results)
    return {
        "meta": meta,
        "rows": table,
        "targets": targets(table),
        "replicas": replica_report.build(results),
        "scenarios": results,
        "ghz": ghz_results,
        "loops": loop_results,
        "cpu": cpu,
    }


# -- markdown ------------------------------------------------------------------------------


def _met(met: bool | None) -> str:
    return "—" if met is None else ("yes" if met else "**no**")


def markdown(doc: Doc) -> str:
    meta = doc["meta"]
    machine = meta["machine"]
    out = [
        f"# sessiond benchmarks ({meta['date']}, commit {meta['commit'] or '?'})",
        "",
        f"{machine['cores']} cores ({machine['cpu']}), {machine['memory_gb']} GB, "
        f"Python {machine['python']}, grpcio {machine['grpcio']}, event loop {meta['loop']}"
        f"{', QUICK (tiny counts, not figures)' if meta['quick'] else ''}; "
        f"suite took {meta['duration_s']} s. Values: median of the repetitions (min–max); "
        "ratio: median of the per-round ratios (each repetition runs beside its baseline's).",
        "",
    ]
    lines = [
        [
            r["measurement"],
            str(r["in_flight"]),
            f"{md.cell(r['value'], r['unit'])} {r['unit']}",
            f"{md.cell(r['baseline'], r['unit'])} ({r['baseline_name']})" if r["baseline"] else "—",
            md.num(r["ratio"]) + "×" if r["ratio"] is not None else "—",
            r["target"] or "—",
            _met(r["met"]),
        ]
        for r in doc["rows"]
    ]
    out += md.table(
        ["measurement", "in flight", "sessiond", "baseline", "ratio", "target", "met"], lines
    )
    out += ["", "## Targets", ""]
    out += md.table(
        ["target", "met", "missed at"],
        [
            [
                t["target"],
                _met(t["met"]) if t["measured"] else "not measured",
                ", ".join(t["misses"]) or "—",
            ]
            for t in doc["targets"]
        ],
    )
    out += replica_report.markdown(doc.get("replicas") or {"rows": [], "cost": []})
    if doc["ghz"]:
        out += ["", "## ghz (Go load generator), unary", ""]
        out += md.table(
            ["call", "in flight", "RPC/s", "p50 ms", "p90 ms", "p99 ms", "errors", "ghz CPU s"],
            [
                [
                    name.rpartition("@")[0],
                    name.rpartition("@")[2],
                    md.num(g["rps"]),
                    md.num(g["percentiles_ms"].get("50"), "ms"),
                    md.num(g["percentiles_ms"].get("90"), "ms"),
                    md.num(g["percentiles_ms"].get("99"), "ms"),
                    str(g["errors"]),
                    md.num(g["ghz_cpu_s"], "ms"),
                ]
                for name, g in doc["ghz"].items()
            ],
        )
    if doc["loops"]:
        out += [
            "",
            "## Event loop: uvloop vs asyncio (servers restarted on each, alternating rounds;"
            " median of all repetitions)",
            "",
        ]
        out += md.table(
            ["scenario", "uvloop", "asyncio", "uvloop/asyncio"], _loop_lines(doc["loops"])
        )
    out += ["", "## CPU time per scenario (seconds)", ""]
    servers = sorted({s for v in doc["cpu"]["load"].values() for s in v["server_cpu_s"]})
    out += md.table(
        ["scenario", "wall", *[f"{s} server" for s in servers], "load generator"],
        [
            [
                name,
                md.num(v["wall_s"], "ms"),
                *[md.num(v["server_cpu_s"].get(s), "ms") for s in servers],
                md.num(v["load_cpu_s"], "ms"),
            ]
            for name, v in doc["cpu"]["load"].items()
        ],
    )
    totals = ", ".join(f"{k} {v:.1f} s" for k, v in doc["cpu"]["servers"].items())
    out += ["", f"Server processes, whole run: {totals}.", ""]
    return "\n".join(out)


def _loop_median(loops: dict[str, Any], loop: str, name: str, key: str) -> float | None:
    result = loops.get(f"loop_{loop}_{name}")
    return summary(result["reps"], key)["median"] if result else None


def _loop_lines(loops: dict[str, Any]) -> list[list[str]]:
    names = sorted({k.split("_", 2)[2] for k in loops})
    lines = []
    for name in names:
        streamed = "stream" in name or "fanout" in name
        key, unit = ("events_per_s", "events/s") if streamed else ("ops_per_s", "RPC/s")
        uv = _loop_median(loops, "uvloop", name, key)
        plain = _loop_median(loops, "asyncio", name, key)
        lines.append(
            [
                name,
                f"{md.num(uv)} {unit}",
                f"{md.num(plain)} {unit}",
                md.num(ratio(uv, plain)) + "×" if uv and plain else "—",
            ]
        )
    return lines
