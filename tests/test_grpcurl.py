"""grpcurl against a live sessiond with no proto files: everything comes from reflection.

grpcurl is taken from the project-local GOBIN (.tools/go/bin, `make grpcurl`), else PATH or
$(go env GOPATH)/bin, else installed with `go install` at the version pinned in the Makefile.
The commands mirror docs/grpcurl.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import ServerHandle

ROOT = Path(__file__).resolve().parent.parent
GOBIN = ROOT / ".tools" / "go" / "bin"
REQUIRE = os.environ.get("SESSIOND_REQUIRE_TOOLCHAINS") == "1"

pytestmark = pytest.mark.timeout(300)


def _pinned_version() -> str:
    match = re.search(r"^GRPCURL_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, "GRPCURL_VERSION is not set in the Makefile"
    return match[1]


@pytest.fixture(scope="session")
def grpcurl() -> str:
    candidates = [GOBIN / "grpcurl"]
    if found := shutil.which("grpcurl"):
        candidates.append(Path(found))
    go = shutil.which("go")
    if go:
        gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True).stdout
        candidates.append(Path(gopath.strip()) / "bin" / "grpcurl")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    if go is None:
        reason = "grpcurl is not installed and there is no go to install it"
        if REQUIRE:
            pytest.fail(f"{reason} (SESSIOND_REQUIRE_TOOLCHAINS=1)")
        pytest.skip(reason)
    module = f"github.com/fullstorydev/grpcurl/cmd/grpcurl@{_pinned_version()}"
    result = subprocess.run(
        [go, "install", module],
        env={**os.environ, "GOBIN": str(GOBIN)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"go install {module} failed:\n{result.stderr}"
    return str(GOBIN / "grpcurl")


async def run(grpcurl: str, *args: str, check: bool = True) -> tuple[int, str, str]:
    # Asynchronous: the server runs on this test's event loop.
    proc = await asyncio.create_subprocess_exec(
        grpcurl,
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    out, err = stdout.decode(), stderr.decode()
    assert proc.returncode is not None
    if check:
        assert proc.returncode == 0, f"grpcurl {' '.join(args)} failed:\n{out}\n{err}"
    return proc.returncode, out, err


def json_stream(text: str) -> list[dict[str, Any]]:
    """grpcurl prints one JSON document per streamed message (proto field names)."""
    decoder = json.JSONDecoder()
    docs: list[dict[str, Any]] = []
    pos = 0
    while (pos := _skip_space(text, pos)) < len(text):
        doc, pos = decoder.raw_decode(text, pos)
        docs.append(doc)
    return docs


def body(event: dict[str, Any]) -> str:
    """The name of the event's oneof body, e.g. `run_started`, `delta`, `final`."""
    (name,) = set(event) - {"session_key", "run_id", "cursor", "ts"}
    return name


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


async def test_list_shows_both_services(server: ServerHandle, grpcurl: str) -> None:
    _, out, _ = await run(grpcurl, "-plaintext", server.target, "list")
    services = out.split()
    assert "sessiond.v1.SessionService" in services
    assert "sessiond.v1.ChatService" in services
    assert "grpc.health.v1.Health" in services

    _, out, _ = await run(grpcurl, "-plaintext", server.target, "list", "sessiond.v1.ChatService")
    assert "sessiond.v1.ChatService.Chat" in out.split()


async def test_describe_chat_service(server: ServerHandle, grpcurl: str) -> None:
    _, out, _ = await run(
        grpcurl, "-plaintext", server.target, "describe", "sessiond.v1.ChatService"
    )
    assert "sessiond.v1.ChatService is a service:" in out
    chat_rpc = "rpc Chat ( .sessiond.v1.ChatRequest ) returns ( stream .sessiond.v1.ChatResponse )"
    assert chat_rpc in out, out
    # The REST mapping (google.api.http) travels with the descriptors reflection serves.
    assert 'post: "/v1/sessions/{session_key}/messages:chat"' in out, out
    assert "rpc WatchChat" in out

    _, out, _ = await run(grpcurl, "-plaintext", server.target, "describe", "sessiond.v1.ChatEvent")
    assert "oneof body" in out


async def test_unary_create_and_get_session(server: ServerHandle, grpcurl: str) -> None:
    request = json.dumps({"label": "from grpcurl", "metadata": {"client": "grpcurl"}})
    _, out, _ = await run(
        grpcurl,
        "-plaintext",
        "-d",
        request,
        server.target,
        "sessiond.v1.SessionService/CreateSession",
    )
    created = json.loads(out)
    assert created["created"] is True
    session = created["session"]
    assert session["key"].startswith("agent:main:dashboard:")
    assert session["label"] == "from grpcurl"

    _, out, _ = await run(
        grpcurl,
        "-plaintext",
        "-d",
        json.dumps({"key": session["key"]}),
        server.target,
        "sessiond.v1.SessionService/GetSession",
    )
    assert json.loads(out)["session"]["metadata"] == {"client": "grpcurl"}


async def test_chat_streams_events_and_watch_chat_replays_them(
    server: ServerHandle, grpcurl: str
) -> None:
    key = "grpcurl-demo"
    text = "Hello from grpcurl, streamed back in chunks ✓"
    await run(
        grpcurl,
        "-plaintext",
        "-d",
        json.dumps({"key": key}),
        server.target,
        "sessiond.v1.SessionService/CreateSession",
    )
    _, out, _ = await run(
        grpcurl,
        "-plaintext",
        "-d",
        json.dumps({"session_key": key, "text": text}),
        server.target,
        "sessiond.v1.ChatService/Chat",
    )
    events = [doc["event"] for doc in json_stream(out)]
    bodies = [body(e) for e in events]
    assert bodies[0] == "run_started"
    assert bodies[-1] == "final"
    assert "delta" in bodies
    assert all(e["session_key"] == "agent:main:grpcurl-demo" for e in events)
    assert "".join(e["delta"]["text"] for e in events if "delta" in e) == text
    assert events[-1]["final"]["message"]["text"] == text
    assert events[-1]["final"]["stop_reason"] == "completed"
    final_cursor = int(events[-1]["cursor"])

    # WatchChat never ends by itself: -max-time stops it after the replay.
    code, out, err = await run(
        grpcurl,
        "-plaintext",
        "-max-time",
        "2",
        "-d",
        json.dumps({"session_key": key, "after_cursor": 0}),
        server.target,
        "sessiond.v1.ChatService/WatchChat",
        check=False,
    )
    assert code != 0
    assert "DeadlineExceeded" in err, err
    replayed = [doc["event"] for doc in json_stream(out)]
    assert [int(e["cursor"]) for e in replayed] == sorted(int(e["cursor"]) for e in replayed)
    assert int(replayed[-1]["cursor"]) == final_cursor
    assert replayed[-1]["final"]["message"]["text"] == text
