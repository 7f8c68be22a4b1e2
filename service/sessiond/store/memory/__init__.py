"""The in-memory store: the SQLite store's twin for tests and development (not persisted)."""

from sessiond.store.memory.store import MemoryStore

__all__ = ["MemoryStore"]
