"""Storage interface; concrete backends live in subpackages and are wired in server.py."""

from sessiond.store.base import ReadTx, SessionQuery, Store, WriteTx

__all__ = ["ReadTx", "SessionQuery", "Store", "WriteTx"]
