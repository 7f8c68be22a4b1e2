"""The PostgreSQL store (scale-out: several replicas share one database)."""

from sessiond.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
