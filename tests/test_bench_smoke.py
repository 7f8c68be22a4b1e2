"""The benchmark harness runs end to end on tiny counts (`python -m bench --quick`).

No timing is asserted: only that every part ran and the JSON has its keys."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.timeout(240)
def test_bench_quick_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads((tmp_path / "quick.json").read_text())
    assert {"meta", "rows", "targets", "scenarios", "ghz", "loops", "cpu", "replicas"} <= (
        document.keys()
    )
    assert document["meta"]["quick"] is True
    scenarios = document["scenarios"]
    for name in (
        "echo_unary@1",
        "echo_unary@16",
        "echo_unary@64",
        "get_session@16",
        "send@16",
        "echo_stream@1",
        "fanout@1",
        "first_delta@1",
        "replies_sessiond@1",
        "idle_streams",
    ):
        assert name in scenarios, name
    assert any(name.startswith("concurrent_runs@") for name in scenarios)
    if document["meta"]["a2a"]:
        assert "replies_a2a@1" in scenarios
    for name, result in scenarios.items():
        if name == "idle_streams":
            assert result["live"] == result["streams"] > 0
            assert {"rss_before", "rss_after", "bytes_per_stream"} <= result.keys()
            continue
        assert result["reps"], name
        assert {"load_cpu_s", "server_cpu_s", "wall_s"} <= result.keys(), name
        for rep in result["reps"]:
            assert rep.get("errors", 0) == 0, (name, rep)
    groups = {row["group"] for row in document["rows"]}
    assert {"get_session", "send", "fanout", "first_delta", "memory"} <= groups
    assert len(document["targets"]) == 6
    for row in document["rows"]:
        assert {"measurement", "in_flight", "value", "baseline", "ratio", "target", "met"} <= (
            row.keys()
        )
    _check_replicas(document, scenarios)
    assert not (tmp_path / "latest.json").exists()  # a quick run leaves full figures alone
    table = (tmp_path / "quick.md").read_text()
    assert "| measurement |" in table
    assert "## Replicas (PostgreSQL + NATS)" in table
    assert table.strip() in done.stdout


def _check_replicas(document: dict[str, Any], scenarios: dict[str, Any]) -> None:
    """The replica scenarios ran on PostgreSQL + NATS, and each has its row."""
    for name in (
        "replica1_send@16",
        "replica2_send@64",
        "replica1_fanout@10",
        "replica2_fanout@10",
        "replica_first_delta_same@1",
        "replica_first_delta_across@1",
        "replica_cost@1",
        "replica_cost@4",
    ):
        assert name in scenarios, name
    two = scenarios["replica2_send@16"]["reps"][0]["server_cpu_s"]
    assert {"replica-a", "replica-b", "postgres", "nats"} <= two.keys()
    replicas = document["replicas"]
    assert {r["measurement"] for r in replicas["rows"]} >= {
        "durable Send RPC/s",
        "WatchChat fan-out events/s",
        "time to first delta p50",
    }
    assert all(r["one"] and r["two"] and r["sqlite"] for r in replicas["rows"])
    for cost in replicas["cost"]:
        # A Send commits and publishes; each of its run's deltas crosses the bus to B.
        assert cost["per_send"]["statements"] > 0
        assert cost["per_send"]["write_tx"] > 0
        assert cost["per_send"]["nats_in"] > 0
        assert cost["per_delta"]["nats_out"] > 0


@pytest.mark.timeout(120)
def test_bench_repetitions_can_be_raised(tmp_path: Path) -> None:
    flags = ["--quick", "--reps", "2", "--only", "echo_unary@1", "--only", "send@1"]
    flags += ["--no-ghz", "--no-a2a"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *flags, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scenarios = json.loads((tmp_path / "quick.json").read_text())["scenarios"]
    assert list(scenarios) == ["echo_unary@1", "send@1"]
    assert len(scenarios["echo_unary@1"]["reps"]) == 2
    send = scenarios["send@1"]
    assert len(send["reps"]) == 2
    assert sum(send["send_status"].values()) == sum(rep["ops"] for rep in send["reps"])
    # One repetition of each per round: every sessiond figure sits beside its baseline's.
    ran = [line.split(":")[0].strip() for line in done.stderr.splitlines() if "@1:" in line]
    assert ran == ["echo_unary@1", "send@1", "echo_unary@1", "send@1"]
