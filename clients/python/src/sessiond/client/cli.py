"""`sessiond chat|sessions|watch`: the command line for people (and `--json` for scripts)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table
from sessiond.client._client import Client

COMMANDS = ("chat", "sessions", "watch")


def add_commands(commands: Any) -> None:
    """Adds the client subcommands to an argparse subparsers object."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--target",
        default=os.environ.get("SESSIOND_TARGET", "127.0.0.1:50051"),
        help="server address [SESSIOND_TARGET, 127.0.0.1:50051]",
    )
    common.add_argument(
        "--token", default=os.environ.get("SESSIOND_TOKEN"), help="bearer token [SESSIOND_TOKEN]"
    )
    common.add_argument("--json", action="store_true", help="JSON lines for scripts")
    chat = commands.add_parser("chat", parents=[common], help="send a message, stream the reply")
    chat.add_argument("key")
    chat.add_argument("message")
    watch = commands.add_parser("watch", parents=[common], help="follow a session's events")
    watch.add_argument("key")
    watch.add_argument("--after-cursor", type=int, default=0)
    sessions = commands.add_parser("sessions", parents=[common], help="list, get, reset, delete")
    sessions.add_argument("action", choices=("list", "get", "reset", "delete"))
    sessions.add_argument("key", nargs="?", default="")


def _json(message: Message) -> str:
    return json.dumps(json_format.MessageToDict(message), ensure_ascii=False)


async def _chat(client: Client, args: argparse.Namespace, console: Console) -> int:
    await client.sessions.create(args.key)  # returns the existing session unchanged
    async for event in client.chat(args.key, args.message):
        if args.json:
            print(_json(event), flush=True)
        elif event.HasField("delta") and not event.delta.thinking:
            console.print(event.delta.text, end="", markup=False, highlight=False)
        elif event.HasField("error"):
            console.print(f"\n[red]error:[/red] {event.error.error_message}")
            return 1
        elif event.HasField("aborted"):
            console.print(f"\n[yellow]stopped:[/yellow] {event.aborted.stop_reason}")
    if not args.json:
        console.print()
    return 0


async def _watch(client: Client, args: argparse.Namespace, console: Console) -> int:
    async for event in client.watch(args.key, args.after_cursor):
        body = event.WhichOneof("body")
        if args.json:
            print(_json(event), flush=True)
        elif body == "delta":
            console.print(event.delta.text, end="", markup=False, highlight=False)
        elif body == "final":
            console.print(f"\n[green]final[/green] #{event.cursor}")
        elif body != "heartbeat":
            console.print(f"[dim]#{event.cursor} {body}[/dim]")
    return 0


def _sessions_table(sessions: Sequence[Any]) -> Table:
    table = Table("key", "label", "status", "messages", "updated")
    for s in sessions:
        status = s.Status_Name(s.status) if hasattr(s, "Status_Name") else str(s.status)
        table.add_row(s.key, s.label, status, str(s.message_count), s.updated_at.ToJsonString())
    return table


async def _sessions(client: Client, args: argparse.Namespace, console: Console) -> int:
    if args.action != "list" and not args.key:
        console.print(f"[red]sessions {args.action} needs a KEY[/red]")
        return 2
    if args.action == "list":
        found = await client.sessions.list_all()
        if args.json:
            for session in found:
                print(_json(session))
        else:
            console.print(_sessions_table(found))
        return 0
    result: Message
    if args.action == "get":
        result = await client.sessions.get(args.key)
    elif args.action == "reset":
        result = await client.sessions.reset(args.key)
    else:
        deleted = await client.sessions.delete(args.key)
        print(json.dumps({"key": args.key, "deleted": deleted}))
        return 0
    print(_json(result)) if args.json else console.print_json(_json(result))
    return 0


HANDLERS = {"chat": _chat, "watch": _watch, "sessions": _sessions}


async def _run(args: argparse.Namespace) -> int:
    console = Console()
    async with Client(args.target, token=args.token) as client:
        try:
            return await HANDLERS[args.command](client, args, console)
        except grpc.aio.AioRpcError as error:
            Console(stderr=True).print(f"[red]{error.code().name}[/red]: {error.details()}")
            return 1


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except KeyboardInterrupt:
        return 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sessiond-client")
    add_commands(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
