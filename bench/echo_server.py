"""The baseline: a minimal grpc.aio echo service, the practical limit on this machine.

`bench.v1.Echo/Unary` returns its request; `bench.v1.Echo/Stream` streams the request's
text back in chunks of 8 characters, one small message each (as sessiond's echo backend
chunks a reply). No interceptors, no logging, no storage. Prints `PORT <n>` once serving.

    python -m bench.echo_server [--port 0] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import AsyncIterator
from typing import Any

import grpc
from google.protobuf.wrappers_pb2 import StringValue

from bench import loops

SERVICE = "bench.v1.Echo"
UNARY = f"/{SERVICE}/Unary"
STREAM = f"/{SERVICE}/Stream"
CHUNK_CHARS = 8


async def _unary(request: StringValue, context: Any) -> StringValue:
    return StringValue(value=request.value)


async def _stream(request: StringValue, context: Any) -> AsyncIterator[StringValue]:
    text = request.value
    for start in range(0, len(text), CHUNK_CHARS):
        yield StringValue(value=text[start : start + CHUNK_CHARS])


def handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(
                _unary,
                request_deserializer=StringValue.FromString,
                response_serializer=StringValue.SerializeToString,
            ),
            "Stream": grpc.unary_stream_rpc_method_handler(
                _stream,
                request_deserializer=StringValue.FromString,
                response_serializer=StringValue.SerializeToString,
            ),
        },
    )


async def serve(port: int) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    server.add_generic_rpc_handlers((handler(),))
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(f"PORT {bound}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--loop", choices=loops.LOOPS, default=loops.default_loop())
    args = parser.parse_args()
    loops.run(serve(args.port), args.loop)


if __name__ == "__main__":
    main()
