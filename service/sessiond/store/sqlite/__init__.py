"""The embedded SQLite store (default)."""

from sessiond.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
