"""`sessiond` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from sessiond import config as config_module
from sessiond.logging_setup import configure
from sessiond.server import serve


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sessiond", description="AI-agent chat sessions over gRPC"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run the gRPC server")
    run.add_argument("--host", help="address to bind [SESSIOND_HOST, 127.0.0.1]")
    run.add_argument("--port", type=int, help="port to bind [SESSIOND_PORT, 50051]")
    run.add_argument("--db", help="SQLite file [SESSIOND_DB, ./data/sessiond.db]")
    run.add_argument("--config", help="TOML config file [SESSIOND_CONFIG]")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = config_module.load(config_file=args.config)
        overrides = {
            name: value
            for name, value in (("host", args.host), ("port", args.port))
            if value is not None
        }
        if args.db:
            overrides["db_path"] = Path(args.db)
        config = replace(config, **overrides)
        config_module.validate(config)
    except config_module.ConfigError as exc:
        print(f"sessiond: {exc}", file=sys.stderr)
        return 2
    configure(config.log_format, config.log_level)
    try:
        asyncio.run(serve(config))
    except OSError as exc:
        print(f"sessiond: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
