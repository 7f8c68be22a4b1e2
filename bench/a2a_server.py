"""The peer: the A2A Python SDK (`a2a-sdk`) serving its gRPC transport.

Its agent executor does what sessiond's echo backend does: the user's text comes back in
chunks of 8 characters, each chunk one streamed event (an artifact update appended to the
reply), between the `working` and `completed` status updates. Tasks live in the SDK's
`InMemoryTaskStore` (sessiond commits every run to SQLite). Prints `PORT <n>` once serving.

    python -m bench.a2a_server [--port 0] [--loop uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

import grpc
from a2a.helpers.proto_helpers import new_task_from_user_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler, GrpcHandler
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types import a2a_pb2, a2a_pb2_grpc

from bench import loops

CHUNK_CHARS = 8


class EchoExecutor(AgentExecutor):
    """Streams the user's message back in 8-character chunks."""

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        text = context.get_user_input()
        task = context.current_task
        if task is None:
            assert context.message is not None
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)
        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()
        artifact_id = "reply"
        for start in range(0, len(text), CHUNK_CHARS):
            await updater.add_artifact(
                [a2a_pb2.Part(text=text[start : start + CHUNK_CHARS])],
                artifact_id=artifact_id,
                append=start > 0,
                last_chunk=start + CHUNK_CHARS >= len(text),
            )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        raise NotImplementedError


def agent_card(port: int) -> a2a_pb2.AgentCard:
    return a2a_pb2.AgentCard(
        name="echo",
        description="streams the message back in 8-character chunks",
        version="1.0.0",
        supported_interfaces=[
            a2a_pb2.AgentInterface(
                url=f"127.0.0.1:{port}", protocol_binding="GRPC", protocol_version="1.0"
            )
        ],
        capabilities=a2a_pb2.AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[a2a_pb2.AgentSkill(id="echo", name="echo", description="echo", tags=["echo"])],
    )


async def serve(port: int) -> None:
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    handler = DefaultRequestHandler(
        agent_executor=EchoExecutor(),
        task_store=InMemoryTaskStore(),
        agent_card=agent_card(bound),
    )
    a2a_pb2_grpc.add_A2AServiceServicer_to_server(  # type: ignore[no-untyped-call]
        GrpcHandler(handler), server
    )
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
    logging.basicConfig(level=logging.WARNING)
    loops.run(serve(args.port), args.loop)


if __name__ == "__main__":
    main()
