"""Where a run's figures were taken: the machine, the commit, which optional parts
(the A2A peer, the replicas) can run here."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.cluster import nats_executable

ROOT = Path(__file__).resolve().parent.parent


def a2a_available() -> bool:
    try:
        import a2a.server.request_handlers  # noqa: F401
    except ImportError:
        return False
    return True


def replicas_available() -> bool:
    """PostgreSQL (pgserver) and nats-server, from the dev extra."""
    try:
        import pgserver  # noqa: F401
    except ImportError:
        return False
    try:
        nats_executable()
    except RuntimeError:
        return False
    return True


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import grpc

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": grpc.__version__,
    }


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""
