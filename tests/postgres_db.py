"""A real PostgreSQL for the tests of store/postgres: one server per test session (the
`pgserver` package ships PostgreSQL 16 and starts it in about two seconds), a fresh
database per test (`postgres_url`), dropped after it.

The server runs with fsync off: tests need its semantics, not its durability. Its data
directory is not under pytest's temporary directory: as root, PostgreSQL runs as another
user (`pgserver`) who must be able to reach it, and every pytest run (of any worktree)
makes /tmp/pytest-of-root private again.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

_databases = itertools.count(1)


def _start(data_dir: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns, at import, that XDG_RUNTIME_DIR is unset (it falls back to /tmp).
        warnings.simplefilter("ignore")
        import pgserver

        return pgserver.get_server(data_dir, cleanup_mode="stop")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Any]:
    """The session's PostgreSQL (a `pgserver.PostgresServer`)."""
    data_dir = Path(tempfile.mkdtemp(prefix="sessiond-pg-"))
    server = _start(data_dir)
    try:
        with psycopg.connect(server.get_uri(), autocommit=True) as conn:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: Any) -> Iterator[str]:
    """A `postgresql://` URL of a new, empty database of its own."""
    name = f"test_{os.getpid()}_{next(_databases)}"
    admin_url = postgres_server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield str(postgres_server.get_uri(name))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
