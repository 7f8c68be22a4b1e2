"""`sessiond chat|sessions|watch`: the people CLI against a live server, as a user runs it."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from conftest import ServerHandle

SESSIOND = str(Path(sys.executable).parent / "sessiond")


async def _run(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        SESSIOND, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_chat_streams_the_reply_to_the_terminal(server: ServerHandle) -> None:
    code, out, _ = await _run("chat", "demo", "hello from the CLI", "--target", server.target)
    assert code == 0
    assert out.strip() == "hello from the CLI"


async def test_sessions_commands_with_json_output(server: ServerHandle) -> None:
    target = ("--target", server.target, "--json")
    await _run("chat", "one", "first", "--target", server.target)
    code, out, _ = await _run("sessions", "list", *target)
    assert code == 0
    listed = [json.loads(line) for line in out.splitlines()]
    assert [s["key"] for s in listed] == ["agent:main:one"]
    code, out, _ = await _run("sessions", "get", "one", *target)
    assert json.loads(out)["messageCount"] == "2"
    code, out, _ = await _run("sessions", "reset", "one", *target)
    assert json.loads(out)["previousSessionId"]
    code, out, _ = await _run("sessions", "delete", "one", *target)
    assert json.loads(out) == {"key": "one", "deleted": True}
    code, _, err = await _run("sessions", "get", "one", *target)
    assert code == 1
    assert "NOT_FOUND" in err


async def test_watch_prints_events_as_json_lines(server: ServerHandle) -> None:
    await _run("chat", "w", "watched", "--target", server.target)
    process = await asyncio.create_subprocess_exec(
        SESSIOND,
        "watch",
        "w",
        "--json",
        "--target",
        server.target,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    bodies = []
    try:
        async with asyncio.timeout(30):
            while "final" not in bodies:
                event = json.loads(await process.stdout.readline())
                bodies.extend(k for k in ("runStarted", "final", "sessionChanged") if k in event)
    finally:
        process.terminate()
        await process.wait()
    assert bodies[:3] == ["sessionChanged", "sessionChanged", "runStarted"]
