"""The TypeScript, Go and Java client examples, each run against a live sessiond.

Each example creates a session, streams a `Chat` reply, goes away while another message is
sent, then resumes with `WatchChat(after_cursor=<last cursor seen>)`. A language whose
toolchain is missing is skipped, or fails when SESSIOND_REQUIRE_TOOLCHAINS=1 (CI).
Builds are cached in ignored directories (clients/java/target, .tools/clients, Go's cache).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from conftest import ServerHandle
from sessiond.config import Config

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
BUILD_DIR = ROOT / ".tools" / "clients"
REQUIRE = os.environ.get("SESSIOND_REQUIRE_TOOLCHAINS") == "1"
# Non-ASCII on purpose: delta offsets count code points, and 𝄞 is two UTF-16 units.
MESSAGE = "Grüße from {lang}: sessiond streams this reply in chunks ✓ 𝄞"
# UTF-8 for the examples' arguments and output whatever the caller's locale (Java needs it).
ENV = {**os.environ, "LC_ALL": "C.UTF-8"}

pytestmark = pytest.mark.timeout(600)


def missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (SESSIOND_REQUIRE_TOOLCHAINS=1)")
    pytest.skip(reason)


def build(args: list[str], cwd: Path) -> None:
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@dataclass(frozen=True)
class Example:
    lang: str
    command: Callable[[str, str], list[str]]
    cwd: Path


@pytest.fixture(scope="session")
def typescript_example() -> Example:
    project = CLIENTS / "typescript"
    if shutil.which("node") is None:
        missing("TypeScript client: node is not installed")
    if not (project / "node_modules" / ".bin" / "tsx").exists():
        if shutil.which("npm") is None:
            missing("TypeScript client: npm is not installed")
        build(["npm", "ci", "--no-audit", "--no-fund"], project)
    build([str(project / "node_modules" / ".bin" / "tsc"), "--noEmit"], project)
    tsx = str(project / "node_modules" / ".bin" / "tsx")
    return Example(
        "TypeScript", lambda target, text: [tsx, "src/example.ts", target, text], project
    )


@pytest.fixture(scope="session")
def go_example() -> Example:
    project = CLIENTS / "go"
    if shutil.which("go") is None:
        missing("Go client: go is not installed")
    binary = BUILD_DIR / "go-example"
    build(["go", "vet", "./..."], project)
    build(["go", "build", "-o", str(binary), "./cmd/example"], project)
    return Example("Go", lambda target, text: [str(binary), target, text], project)


@pytest.fixture(scope="session")
def java_example() -> Example:
    project = CLIENTS / "java"
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            missing(f"Java client: {tool} is not installed")
    classpath_file = project / "target" / "classpath.txt"
    build(
        [
            "mvn",
            "-q",
            "-B",
            "-Dstyle.color=never",
            "compile",
            "dependency:build-classpath",
            "-Dmdep.includeScope=runtime",
            f"-Dmdep.outputFile={classpath_file}",
        ],
        project,
    )
    classpath = f"{project / 'target' / 'classes'}{os.pathsep}{classpath_file.read_text().strip()}"
    main = "dev.sessiond.example.Example"
    java = ["java", "-cp", classpath, main]
    return Example("Java", lambda target, text: [*java, target, text], project)


@pytest.fixture
def config(config: Config) -> Config:
    # Small echo chunks and a short coalescing interval: the reply arrives in several deltas.
    return replace(config, echo_chunk_chars=4, echo_delay_ms=15, delta_interval_ms=20)


async def run_example(example: Example, target: str, text: str) -> str:
    # Asynchronous: the server runs on this test's event loop.
    proc = await asyncio.create_subprocess_exec(
        *example.command(target, text),
        cwd=example.cwd,
        env=ENV,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"{example.lang} example did not finish in 60 s")
    out = stdout.decode()
    assert proc.returncode == 0, f"{example.lang} example failed:\n{out}\n{stderr.decode()}"
    return out


def check_output(out: str, text: str) -> None:
    lines = out.splitlines()
    assert re.fullmatch(r"session agent:main:dashboard:[0-9a-f-]{36}", lines[0]), out
    # The streamed reply, printed delta by delta, is exactly what was sent (echo agent).
    assert lines[1] == f"reply: {text}", out
    final = re.fullmatch(r"final cursor=(\d+) stop_reason=completed deltas=(\d+)", lines[2])
    assert final, out
    cursor, deltas = int(final[1]), int(final[2])
    assert deltas >= 2, f"expected the reply in several deltas:\n{out}"

    offline = re.fullmatch(r'offline: sent "(.*)" run=([0-9a-f-]{36})', lines[3])
    assert offline, out
    assert offline[1] == f"again: {text}", out
    run_id = offline[2]
    assert lines[4] == f"resume after_cursor={cursor}", out

    # Resumed: every event after the cursor, in order, ending with the offline run's final.
    events = [line.strip() for line in lines[5:-1]]
    assert all(line.startswith("cursor=") for line in events), out
    cursors = [int(line.split()[0].removeprefix("cursor=")) for line in events]
    assert cursors == sorted(cursors), out
    assert all(c > cursor for c in cursors), out
    kinds = [line.split()[1] for line in events]
    assert f"run_started run={run_id}" in [" ".join(e.split()[1:3]) for e in events], out
    assert kinds.count("run_started") == 1, out
    assert kinds[-1] == "final", out
    assert events[-1].split(maxsplit=2)[2] == f'stop_reason=completed "again: {text}"', out
    assert lines[-1] == f"resumed reply: again: {text}", out


async def test_typescript_example(server: ServerHandle, typescript_example: Example) -> None:
    text = MESSAGE.format(lang="TypeScript")
    check_output(await run_example(typescript_example, server.target, text), text)


async def test_go_example(server: ServerHandle, go_example: Example) -> None:
    text = MESSAGE.format(lang="Go")
    check_output(await run_example(go_example, server.target, text), text)


async def test_java_example(server: ServerHandle, java_example: Example) -> None:
    text = MESSAGE.format(lang="Java")
    check_output(await run_example(java_example, server.target, text), text)
