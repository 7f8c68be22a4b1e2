"""REST over the google.api.http mapping, for real, as a user of the Envoy example would use
it: real HTTP/JSON calls through a transcoding proxy to a live sessiond.

Envoy cannot be installed from the registries this project uses, so the proxy is
grpc-gateway v2, which implements the same google.api.http rules: protoc-gen-grpc-gateway
(pinned in the Makefile, `make rest-gateway`) generates the gateway from proto/ into a build
directory under .tools/rest-gateway (never into clients/), and tests/rest_gateway/main.go
serves it. The build is cached by a digest of its inputs, so only a changed proto, harness or
generated Go client rebuilds it. Without Go the tests skip (fail in CI,
SESSIOND_REQUIRE_TOOLCHAINS=1).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import http_rules
import pytest
from conftest import ServerHandle
from grpc_tools import protoc
from sessiond.v1 import chat_service_pb2, session_service_pb2
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "rest_gateway"
BUILD_DIR = ROOT / ".tools" / "rest-gateway"
GOBIN = ROOT / ".tools" / "go" / "bin"
PLUGIN = GOBIN / "protoc-gen-grpc-gateway"
GO_PACKAGE = "github.com/sessiond/sessiond/clients/go/gen/sessiond/v1;sessiondv1"
REQUIRE = os.environ.get("SESSIOND_REQUIRE_TOOLCHAINS") == "1"

pytestmark = pytest.mark.timeout(300)


def missing(reason: str) -> None:
    if REQUIRE:
        pytest.fail(f"{reason} (SESSIOND_REQUIRE_TOOLCHAINS=1)")
    pytest.skip(reason)


def pinned_version() -> str:
    match = re.search(r"^GRPC_GATEWAY_VERSION\s*:=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    assert match, "GRPC_GATEWAY_VERSION is not set in the Makefile"
    return match[1]


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def build_inputs() -> list[Path]:
    """Every file the gateway binary is built from (besides the pinned tools)."""
    globs = [
        (HARNESS, "*"),
        (ROOT / "proto", "**/*.proto"),
        (ROOT / "third_party" / "googleapis", "**/*.proto"),
        (ROOT / "clients" / "go", "go.*"),
        (ROOT / "clients" / "go" / "gen", "**/*.go"),
    ]
    return sorted(p for base, pattern in globs for p in base.glob(pattern) if p.is_file())


@pytest.fixture(scope="session")
def gateway_binary() -> Path:
    go = shutil.which("go")
    if go is None:
        missing("REST gateway: go is not installed")
    assert go is not None
    version = pinned_version()
    go_mod = (HARNESS / "go.mod").read_text()
    assert f"github.com/grpc-ecosystem/grpc-gateway/v2 {version}\n" in go_mod, (
        f"tests/rest_gateway/go.mod must require grpc-gateway {version} (the Makefile's pin)"
    )
    go_version = run([go, "env", "GOVERSION"], ROOT).strip()
    digest = hashlib.sha256(f"{version} {go_version}\n".encode())
    for path in build_inputs():
        digest.update(f"{path.relative_to(ROOT)}\n".encode())
        digest.update(path.read_bytes())
    binary = BUILD_DIR / f"rest-gateway-{digest.hexdigest()[:16]}"
    if binary.exists():
        return binary

    env = {**os.environ, "GOBIN": str(GOBIN), "GOFLAGS": "-buildvcs=false"}
    plugin_stamp = ROOT / ".tools" / "stamps" / f"protoc-gen-grpc-gateway@{version}"
    if not (PLUGIN.exists() and plugin_stamp.exists()):
        module = "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway"
        run([go, "install", f"{module}@{version}"], ROOT, env)
        plugin_stamp.parent.mkdir(parents=True, exist_ok=True)
        plugin_stamp.touch()

    BUILD_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BUILD_DIR, prefix="src-") as tmp:
        src = Path(tmp)
        shutil.copy(HARNESS / "main.go", src)
        shutil.copy(HARNESS / "go.sum", src)
        # The harness's replace points at clients/go relative to tests/rest_gateway.
        assert "=> ../../clients/go\n" in go_mod
        (src / "go.mod").write_text(
            go_mod.replace("=> ../../clients/go\n", f"=> {ROOT / 'clients' / 'go'}\n")
        )
        (src / "gw").mkdir()
        protos = ["sessiond/v1/session_service.proto", "sessiond/v1/chat_service.proto"]
        mappings = ",".join(
            f"M{p}={GO_PACKAGE}"
            for p in sorted(
                str(p.relative_to(ROOT / "proto")) for p in (ROOT / "proto").rglob("*.proto")
            )
        )
        run(
            [
                sys.executable,
                "-m",
                "grpc_tools.protoc",
                f"-I{ROOT / 'proto'}",
                f"-I{ROOT / 'third_party' / 'googleapis'}",
                f"-I{Path(protoc.__file__).parent / '_proto'}",
                f"--plugin=protoc-gen-grpc-gateway={PLUGIN}",
                f"--grpc-gateway_out={src / 'gw'}",
                f"--grpc-gateway_opt=paths=source_relative,standalone=true,{mappings}",
                *protos,
            ],
            ROOT,
        )
        run([go, "build", "-mod=readonly", "-o", "rest-gateway", "."], src, env)
        (src / "rest-gateway").replace(binary)
    for old in BUILD_DIR.glob("rest-gateway-*"):
        if old != binary:
            old.unlink(missing_ok=True)
    return binary


@pytest.fixture
async def rest(server: ServerHandle, gateway_binary: Path) -> AsyncIterator[str]:
    """Base URL of a gateway in front of the test's sessiond."""
    proc = await asyncio.create_subprocess_exec(
        str(gateway_binary),
        server.target,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        listening = re.fullmatch(r"listening (\S+)\n", line)
        assert listening, f"the gateway did not start: {line!r}"
        yield f"http://{listening[1]}"
    finally:
        # The gateway exits when its standard input closes.
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            await asyncio.wait_for(proc.communicate(), 10)
        except TimeoutError:
            proc.kill()
            await proc.communicate()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


def url(base: str, path: str) -> URL:
    # encoded=True: a key's %3A and %2F reach the gateway as written.
    return URL(base + path, encoded=True)


def key_path(key: str) -> str:
    """A session key as one path segment: every reserved character percent-encoded."""
    return quote(key, safe="")


async def call(
    http: aiohttp.ClientSession,
    method: str,
    target: URL,
    body: dict[str, Any] | None = None,
    status: int = 200,
) -> dict[str, Any]:
    async with http.request(method, target, json=body) as response:
        text = await response.text()
        assert response.status == status, f"{method} {target} → {response.status}: {text}"
        result: dict[str, Any] = json.loads(text)
        return result


async def read_stream(response: aiohttp.ClientResponse, until: str) -> list[dict[str, Any]]:
    """The events of a streamed reply (one JSON object per line) up to the first event
    whose body is `until`."""
    events: list[dict[str, Any]] = []
    while True:
        line = await asyncio.wait_for(response.content.readline(), 10)
        assert line, f"stream ended before {until}: {events}"
        chunk = json.loads(line)
        assert "result" in chunk, chunk
        event = chunk["result"]["event"]
        events.append(event)
        if until in event:
            return events


async def test_rest_user_journey(rest: str, http: aiohttp.ClientSession) -> None:
    # Create (POST /v1/sessions, body "*").
    created = await call(
        http,
        "POST",
        url(rest, "/v1/sessions"),
        {"key": "rest-demo", "label": "REST demo", "metadata": {"via": "rest"}},
    )
    assert created["created"] is True
    key = created["session"]["key"]
    assert key == "agent:main:rest-demo"
    # Read it back: the key percent-encoded, and with its ':' as is.
    for path in (f"/v1/sessions/{key_path(key)}", f"/v1/sessions/{key}", "/v1/sessions/rest-demo"):
        got = await call(http, "GET", url(rest, path))
        assert got["session"]["key"] == key, path
        assert got["session"]["metadata"] == {"via": "rest"}
    # Other fields of a GET come as query parameters (a Timestamp in RFC 3339).
    query = "page_size=10&label_contains=rest&agent_id=main&updated_after=2000-01-01T00:00:00Z"
    listed = await call(http, "GET", url(rest, f"/v1/sessions?{query}"))
    assert [s["key"] for s in listed["sessions"]] == [key]
    future = await call(http, "GET", url(rest, "/v1/sessions?updated_after=2999-01-01T00:00:00Z"))
    assert future["sessions"] == []

    # Update (PATCH, body "*": the update and its mask).
    updated = await call(
        http,
        "PATCH",
        url(rest, f"/v1/sessions/{key_path(key)}"),
        {"update": {"display_name": "Over REST"}, "update_mask": "displayName"},
    )
    assert updated["session"]["display_name"] == "Over REST"
    assert updated["session"]["label"] == "REST demo", "outside the mask: unchanged"

    # Send a message, wait for its run, read the run and the transcript.
    sent = await call(
        http,
        "POST",
        url(rest, f"/v1/sessions/{key_path(key)}/messages:send"),
        {"text": "Hello over REST ✓"},
    )
    assert sent["status"] == "SEND_STATUS_STARTED"
    run_id = sent["run_id"]
    waited = await call(http, "GET", url(rest, f"/v1/runs/{run_id}:wait?timeout_ms=5000"))
    assert waited["done"] is True
    run = await call(http, "GET", url(rest, f"/v1/runs/{run_id}"))
    assert run["run"]["status"] == "RUN_STATUS_DONE"
    assert run["run"]["session_key"] == key
    messages = await call(http, "GET", url(rest, f"/v1/sessions/{key_path(key)}/messages"))
    assert [(m["role"], m["text"]) for m in messages["messages"]] == [
        ("ROLE_USER", "Hello over REST ✓"),
        ("ROLE_ASSISTANT", "Hello over REST ✓"),  # the echo agent
    ]

    # Chat: a streamed reply, one JSON object per line, ending with the final event.
    async with http.post(
        url(rest, f"/v1/sessions/{key_path(key)}/messages:chat"), json={"text": "streamed back"}
    ) as response:
        assert response.status == 200, await response.text()
        events = await read_stream(response, until="final")
    assert "run_started" in events[0]
    assert events[-1]["final"]["message"]["text"] == "streamed back"
    final_cursor = int(events[-1]["cursor"])
    runs = await call(http, "GET", url(rest, f"/v1/sessions/{key_path(key)}/runs"))
    assert len(runs["runs"]) == 2
    done = f"/v1/sessions/{key_path(key)}/runs?status=RUN_STATUS_DONE"  # an enum by name
    assert len((await call(http, "GET", url(rest, done)))["runs"]) == 2

    # WatchChat (GET .../events) replays from a cursor; the stream stays open, so the
    # client closes it once it has what it wants.
    async with http.get(
        url(rest, f"/v1/sessions/{key_path(key)}/events?after_cursor=0")
    ) as response:
        assert response.status == 200, await response.text()
        replayed = await read_stream(response, until="final")
        while int(replayed[-1]["cursor"]) < final_cursor:
            replayed += await read_stream(response, until="final")
    assert replayed[-1]["final"]["message"]["text"] == "streamed back"

    # Reset archives the transcript, readable by its id under /v1/transcripts.
    reset = await call(http, "POST", url(rest, f"/v1/sessions/{key_path(key)}:reset"), {})
    archived_id = reset["previous_session_id"]
    archive = await call(http, "GET", url(rest, f"/v1/transcripts/{archived_id}/messages"))
    assert archive["archived"] is True
    assert len(archive["messages"]) == 4
    archives = await call(http, "GET", url(rest, f"/v1/sessions/{key_path(key)}/archives"))
    assert [a["session_id"] for a in archives["archives"]] == [archived_id]

    # Delete, then the session is gone: HTTP 404 with sessiond's error details.
    deleted = await call(http, "DELETE", url(rest, f"/v1/sessions/{key_path(key)}"))
    assert deleted["deleted"] is True
    error = await call(http, "GET", url(rest, f"/v1/sessions/{key_path(key)}"), status=404)
    assert error["code"] == 5  # NOT_FOUND
    (info,) = [d for d in error["details"] if d["@type"].endswith("google.rpc.ErrorInfo")]
    assert (info["domain"], info["reason"]) == ("sessiond", "SESSION_NOT_FOUND")
    again = await call(
        http, "DELETE", url(rest, f"/v1/sessions/{key_path(key)}?allow_missing=true")
    )
    assert again["deleted"] is False


async def test_keys_with_colons_and_verb_like_names(rest: str, http: aiohttp.ClientSession) -> None:
    # A key whose last part is also a custom verb of the API (`:reset`): percent-encoded it is
    # one path segment for any proxy (docs/api.md, "REST mapping").
    key = "agent:main:team:reset"
    created = await call(http, "POST", url(rest, "/v1/sessions"), {"key": key})
    assert created["session"]["key"] == key
    got = await call(http, "GET", url(rest, f"/v1/sessions/{key_path(key)}"))
    assert got["session"]["key"] == key
    for path in (f"/v1/sessions/{key_path(key)}:reset", f"/v1/sessions/{key}:reset"):
        reset = await call(http, "POST", url(rest, path), {"reason": "RESET_REASON_NEW"})
        assert reset["session"]["key"] == key, path


async def test_every_route_reaches_its_rpc(rest: str, http: aiohttp.ClientSession) -> None:
    """Each route of the google.api.http options, called once, is answered by the RPC it
    names (the gateway reports the RPC it called); sessiond answers either with a result or
    with its own error (an ErrorInfo of domain sessiond), never the proxy with a 404."""
    created = await call(http, "POST", url(rest, "/v1/sessions"), {"key": "routes"})
    key = created["session"]["key"]
    sent = await call(
        http, "POST", url(rest, f"/v1/sessions/{key_path(key)}/messages:send"), {"text": "hi"}
    )
    values = {
        "key": key_path(key),
        "session_key": key_path(key),
        "session_id": created["session"]["session_id"],
        "run_id": sent["run_id"],
        "checkpoint_id": "no-such-checkpoint",
        "plugin_id": "plugin",
        "namespace": "space",
    }
    routes = http_rules.routes_of_modules(session_service_pb2, chat_service_pb2)
    # DELETE last: it removes the session the others use.
    for route in sorted(routes, key=lambda r: r.verb == "DELETE"):
        path = re.sub(r"\{(\w+)\}", lambda m: values[m[1]], route.template)
        body = {} if route.body else None
        async with http.request(route.verb, url(rest, path), json=body) as response:
            where = f"{route.verb} {path} ({route.rpc})"
            assert response.headers.get("X-Rpc-Method") == route.rpc, where
            assert response.headers.get("X-Http-Pattern") == route.template, where
            if response.status == 200:
                # A stream's first message is enough; closing the response ends the call.
                first = await asyncio.wait_for(response.content.readline(), 10)
                assert json.loads(first), where
                continue
            error = json.loads(await response.text())
            error = error.get("error", error)  # a stream's error comes as {"error": {...}}
            domains = [d.get("domain") for d in error.get("details", [])]
            assert "sessiond" in domains, f"{where} → {response.status}: {error}"
