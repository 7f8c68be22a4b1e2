"""`sessiond chat|sessions|watch|usage`: the command line for people (and `--json` for
scripts)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.table import Table
from sessiond.client._client import Client

COMMANDS = ("chat", "sessions", "watch", "usage")
GROUPINGS = ("tenant", "agent", "model", "day")
_SPAN = re.compile(r"(\d+)([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


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
    usage = commands.add_parser("usage", parents=[common], help="tokens, cost and runs")
    usage.add_argument(
        "--since",
        type=_time,
        help="start: an ISO time (UTC unless it says) or an age such as 90m, 24h, 7d, 2w"
        " [the start of today, UTC]",
    )
    usage.add_argument("--until", type=_time, help="end, as --since [now]")
    usage.add_argument(
        "--by", type=_groupings, default=[], help=f"group by any of {','.join(GROUPINGS)}"
    )


def _time(text: str) -> dt.datetime:
    """An ISO time, or an age (`24h`: 24 hours ago)."""
    span = _SPAN.fullmatch(text.strip())
    if span:
        age = dt.timedelta(**{_UNITS[span.group(2)]: int(span.group(1))})
        return dt.datetime.now(dt.UTC) - age
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a time or an age: {text!r}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _groupings(text: str) -> list[str]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in GROUPINGS]
    if unknown:
        raise argparse.ArgumentTypeError(f"--by takes {','.join(GROUPINGS)}, not {unknown}")
    return names


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


def _tenant_of(key: str, listed_for: str) -> str:
    """The tenant of a listed session: the one the list is for, or for a token reading
    across tenants the one its (stored) key names."""
    if listed_for:
        return listed_for
    if key.startswith("tenant:"):
        return key.split(":", 2)[1]
    return "default"


def _sessions_table(sessions: Sequence[Any], tenant: str) -> Table:
    table = Table("tenant", "key", "label", "status", "messages", "updated")
    for s in sessions:
        status = s.Status_Name(s.status) if hasattr(s, "Status_Name") else str(s.status)
        table.add_row(
            _tenant_of(s.key, tenant),
            s.key,
            s.label,
            status,
            str(s.message_count),
            s.updated_at.ToJsonString(),
        )
    return table


async def _sessions(client: Client, args: argparse.Namespace, console: Console) -> int:
    if args.action != "list" and not args.key:
        console.print(f"[red]sessions {args.action} needs a KEY[/red]")
        return 2
    if args.action == "list":
        found, tenant = await client.sessions.list_with_tenant()
        if args.json:
            for session in found:
                row = json_format.MessageToDict(session)
                print(json.dumps({"tenant": _tenant_of(session.key, tenant), **row}))
        else:
            console.print(_sessions_table(found, tenant))
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


async def _usage(client: Client, args: argparse.Namespace, console: Console) -> int:
    reply = await client.sessions.usage(args.since, args.until, args.by)
    if args.json:
        for row in reply.rows:
            print(_json(row))
        return 0
    start, end = reply.start_time.ToJsonString(), reply.end_time.ToJsonString()
    table = Table(
        *args.by, "runs", "input", "output", "total", "cost_usd", title=f"{start} .. {end}"
    )
    for row in reply.rows:
        grouped = {"tenant": row.tenant, "agent": row.agent_id, "model": row.model}
        grouped["day"] = row.day.ToJsonString()[:10] if row.HasField("day") else ""
        usage = row.usage
        table.add_row(
            *(grouped[name] for name in args.by),
            str(row.runs),
            str(usage.input_tokens),
            str(usage.output_tokens),
            str(usage.total_tokens),
            f"{usage.estimated_cost_usd:.4f}",
        )
    console.print(table)
    return 0


HANDLERS = {"chat": _chat, "watch": _watch, "sessions": _sessions, "usage": _usage}


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
