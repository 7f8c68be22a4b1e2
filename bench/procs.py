"""Child processes of the harness: the servers (started, their port awaited), the load
generator (run on a plan), CPU time and RSS from /proc."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
PORT_LINE = re.compile(rb"^PORT (\d+)$", re.MULTILINE)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (all its threads), from /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_bytes()
    fields = raw[raw.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its descendants (PostgreSQL's backends are the postmaster's
    children): the live ones from their /proc/<pid>/stat, the ended ones from their
    parent's cutime and cstime."""
    children: dict[int, list[int]] = {}
    times: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            raw = stat.read_bytes()
        except OSError:  # ended meanwhile
            continue
        fields = raw[raw.rindex(b")") + 2 :].split()
        child = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        times[child] = sum(int(f) for f in fields[11:15]) / _CLK_TCK
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += times.get(current, 0.0)
        todo += children.get(current, [])
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of a live process, from /proc/<pid>/statm."""
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE


@dataclass
class Server:
    """A server process that reported its port (a `PORT n` line, or sessiond's start log)."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss(self) -> int:
        return rss_bytes(self.pid)

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def _port_from_log(data: bytes) -> int | None:
    match = PORT_LINE.search(data)
    if match:
        return int(match.group(1))
    for line in data.splitlines():
        if b'"server.started"' in line:
            with contextlib.suppress(ValueError):
                return int(json.loads(line)["port"])
    return None


def _inherited() -> dict[str, str]:
    """This environment without SESSIOND_* settings: a server of the suite runs with the
    settings the suite gives it, not a config, tokens or log level set for other uses."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SESSIOND_")}


def start_server(
    name: str,
    argv: list[str],
    log_dir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Server:
    """Starts `argv` with stdout+stderr to a log file; waits until it reports its port."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**_inherited(), **(env or {})},
            cwd=ROOT,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        port = _port_from_log(log_path.read_bytes())
        if port is not None:
            return Server(name, process, port, log_path)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    process.wait()
    tail = log_path.read_text(errors="replace")[-2000:]
    raise RuntimeError(f"{name} did not start (exit {process.returncode}):\n{tail}")


def python() -> str:
    return sys.executable


def sessiond_env(db: Path, loop: str, **extra: str) -> dict[str, str]:
    env = {
        "SESSIOND_DB": str(db),
        "SESSIOND_PORT": "0",
        "SESSIOND_ECHO_DELAY_MS": "0",
        # Every 8-character chunk of the echo backend becomes its own delta (the A2A
        # peer streams the same chunks); sessiond's default coalesces for 150 ms.
        "SESSIOND_DELTA_INTERVAL_MS": "0",
        "SESSIOND_DRAIN_MS": "0",
        "SESSIOND_GRACE_S": "1",
        "SESSIOND_EVENT_LOOP": loop,
        # Fan-out sends 100 runs to one session at once: all of them queue.
        "SESSIOND_MAX_QUEUED_RUNS": "1000",
        # Its defaults; the suite reads the port from the `server.started` JSON line.
        "SESSIOND_LOG_FORMAT": "json",
        "SESSIOND_LOG_LEVEL": "info",
    }
    return env | extra


def start_servers(work: Path, loop: str, with_a2a: bool, suffix: str = "") -> dict[str, Server]:
    servers = {
        "echo": start_server(
            f"echo{suffix}", [python(), "-m", "bench.echo_server", "--loop", loop], work
        ),
        "sessiond": start_server(
            f"sessiond{suffix}",
            [python(), "-m", "sessiond", "serve"],
            work,
            env=sessiond_env(work / f"sessiond{suffix}.db", loop),
        ),
    }
    if with_a2a:
        servers["a2a"] = start_server(
            f"a2a{suffix}", [python(), "-m", "bench.a2a_server", "--loop", loop], work
        )
    return servers


def run_load(
    scenarios: list[dict[str, Any]],
    servers: dict[str, Server],
    loop: str,
    timeout: float,
    trees: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Runs the load generator process on `scenarios`; its results, one per scenario.
    The CPU time of `servers` and of the process trees `trees` (name: root pid) is
    recorded around each scenario and each repetition."""
    body = {
        "loop": loop,
        "servers": {name: s.pid for name, s in servers.items()},
        "trees": trees or {},
        "scenarios": scenarios,
    }
    done = subprocess.run(
        [python(), "-m", "bench.load", "-"],
        input=json.dumps(body).encode(),
        stdout=subprocess.PIPE,
        timeout=timeout,
        check=True,
        cwd=ROOT,
    )
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results
