"""The unary load through ghz (a Go load generator), where it is installed.

`make ghz` puts it in .tools/go/bin (`go install github.com/bojand/ghz/cmd/ghz@<pinned>`).
Each run is bounded by a count (`-n`) and a time (`-x`, and a process timeout).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.procs import Server

CALLS = {
    # StringValue's JSON form is a bare string.
    "echo_unary": ("echo", "bench.v1.Echo/Unary", "bench-session", "bench/echo.proto"),
    "get_session": (
        "sessiond",
        "sessiond.v1.SessionService/GetSession",
        {"key": "bench"},
        "proto/sessiond/v1/session_service.proto",
    ),
}
"""name -> (server, method, request as JSON, proto file)"""


def _proto_args(root: Path, proto: str) -> list[str]:
    # proto/ and the vendored googleapis files it imports (google/api/annotations.proto).
    roots = ",".join(str(r) for r in (root / "proto", root / "third_party" / "googleapis"))
    return ["--proto", str(root / proto), "-i", roots]


def find(root: Path) -> str | None:
    local = root / ".tools" / "go" / "bin" / "ghz"
    if local.exists():
        return str(local)
    return shutil.which("ghz")


def _create_session(root: Path, server: Server, ghz: str) -> None:
    subprocess.run(
        [
            ghz,
            "--insecure",
            "--call",
            "sessiond.v1.SessionService/CreateSession",
            *_proto_args(root, CALLS["get_session"][3]),
            *["-d", json.dumps({"key": "bench"}), "-n", "1", "-c", "1", server.target],
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )


def _one(
    ghz: str,
    root: Path,
    server: Server,
    call: str,
    data: object,
    proto: str,
    c: int,
    bounds: dict[str, Any],
) -> dict[str, Any]:
    argv = [ghz, "--insecure", "--call", call, "-d", json.dumps(data), "-c", str(c)]
    argv += ["-n", str(bounds["max_ops"]), "-x", f"{bounds['max_seconds']}s", "-O", "json"]
    argv += _proto_args(root, proto)
    before = server.cpu()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen([*argv, server.target], stdout=subprocess.PIPE)
    try:
        stdout, _ = process.communicate(timeout=bounds["max_seconds"] + 30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    # ghz's own CPU: the growth of reaped children's rusage across this run.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    ghz_cpu = (usage.ru_utime + usage.ru_stime) - (children.ru_utime + children.ru_stime)
    report = json.loads(stdout)
    distribution = report.get("latencyDistribution") or []
    latencies = {d["percentage"]: d["latency"] / 1e6 for d in distribution}
    return {
        "count": report["count"],
        "rps": report["rps"],
        "seconds": report["total"] / 1e9,
        "average_ms": report["average"] / 1e6,
        "fastest_ms": report["fastest"] / 1e6,
        "slowest_ms": report["slowest"] / 1e6,
        "percentiles_ms": {str(k): v for k, v in latencies.items()},
        # Calls cut off when -x ends the run show up as errors too ("closed connection").
        "errors": sum((report.get("errorDistribution") or {}).values()),
        "error_kinds": sorted((report.get("errorDistribution") or {}).keys())[:5],
        "server_cpu_s": server.cpu() - before,
        "ghz_cpu_s": ghz_cpu,
    }


def run_all(
    root: Path,
    servers: dict[str, Server],
    concurrency: Iterable[int],
    bounds: dict[str, Any],
    work: Path,
) -> dict[str, Any]:
    """ghz against the echo baseline and GetSession at each concurrency; {} without ghz."""
    ghz = find(root)
    if ghz is None or os.environ.get("BENCH_NO_GHZ"):
        return {}
    _create_session(root, servers["sessiond"], ghz)
    results: dict[str, Any] = {}
    for name, (server, call, data, proto) in CALLS.items():
        for c in concurrency:
            results[f"{name}@{c}"] = _one(ghz, root, servers[server], call, data, proto, c, bounds)
    return results
