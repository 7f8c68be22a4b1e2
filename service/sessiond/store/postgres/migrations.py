"""Versioned schema migrations, applied in order and recorded in `_migrations`.

Several replicas may start at once on one database: each applies what is pending while
holding a session-level advisory lock, so one of them migrates and the others, once they
get the lock, find nothing left to do. Each migration is one transaction.

The tables have the shape of the SQLite store's; the differences are PostgreSQL's:
* records are `json` (kept as written, `\\u0000` included, which `jsonb` refuses);
* `events.global_seq` is taken from the single row of `event_feed_head`, not a sequence:
  the writer holds that row's lock from the start of its transaction to its commit, so
  positions are handed out in commit order (see store.py);
* a message's `seq` lives in its column only (it is assigned by the insert itself);
* runs and checkpoints have a `row_order` (SQLite's rowid) to order rows created within
  the same millisecond, and runs a `priority` column (steered runs start first);
* keys and transcript ids sort bytewise (`COLLATE "C"`), as SQLite sorts them.
"""

from __future__ import annotations

import psycopg

MIGRATIONS_LOCK = 0x5E55_10D0
"""The advisory lock key held while migrating (any constant other applications avoid)."""

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE transcripts (
            session_id TEXT COLLATE "C" PRIMARY KEY,
            session_key TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            archived_at BIGINT,
            archive_reason TEXT,
            message_count BIGINT NOT NULL DEFAULT 0
        );
        CREATE INDEX transcripts_archived ON transcripts (archived_at DESC, session_id DESC)
            WHERE archived_at IS NOT NULL;
        CREATE INDEX transcripts_key ON transcripts (session_key);

        CREATE TABLE sessions (
            key TEXT COLLATE "C" PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES transcripts (session_id),
            agent_id TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            parent_session_key TEXT NOT NULL DEFAULT '',
            active_run_id TEXT NOT NULL DEFAULT '',
            updated_at BIGINT NOT NULL,
            data JSON NOT NULL
        );
        CREATE UNIQUE INDEX sessions_label ON sessions (agent_id, label) WHERE label <> '';
        CREATE INDEX sessions_updated ON sessions (updated_at DESC, key DESC);
        CREATE INDEX sessions_session_id ON sessions (session_id);

        CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES transcripts (session_id) ON DELETE CASCADE,
            seq BIGINT NOT NULL,
            role TEXT NOT NULL,
            silent BOOLEAN NOT NULL DEFAULT FALSE,
            created_at BIGINT NOT NULL,
            data JSON NOT NULL,
            PRIMARY KEY (session_id, seq)
        );

        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            row_order BIGINT GENERATED ALWAYS AS IDENTITY,
            session_key TEXT NOT NULL,
            status TEXT NOT NULL,
            scope TEXT NOT NULL DEFAULT '',
            idempotency_key TEXT NOT NULL DEFAULT '',
            priority INTEGER NOT NULL DEFAULT 0,
            created_at BIGINT NOT NULL,
            data JSON NOT NULL
        );
        CREATE UNIQUE INDEX runs_idempotency ON runs (session_key, scope, idempotency_key)
            WHERE idempotency_key <> '';
        CREATE INDEX runs_session ON runs (session_key, created_at DESC, row_order DESC);
        CREATE INDEX runs_open ON runs (created_at, row_order)
            WHERE status IN ('queued', 'running');
        CREATE INDEX runs_queued ON runs (session_key, priority DESC, created_at, row_order)
            WHERE status = 'queued';

        CREATE TABLE event_heads (
            session_key TEXT PRIMARY KEY,
            last_cursor BIGINT NOT NULL
        );

        CREATE TABLE event_feed_head (
            only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
            last_global_seq BIGINT NOT NULL
        );
        INSERT INTO event_feed_head (only_row, last_global_seq) VALUES (TRUE, 0);

        CREATE TABLE events (
            global_seq BIGINT PRIMARY KEY,
            session_key TEXT NOT NULL,
            cursor BIGINT NOT NULL,
            kind TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            reason TEXT,
            ts BIGINT NOT NULL,
            payload JSON NOT NULL,
            UNIQUE (session_key, cursor)
        );
        CREATE INDEX events_ts ON events (ts);

        CREATE TABLE checkpoints (
            checkpoint_id TEXT PRIMARY KEY,
            row_order BIGINT GENERATED ALWAYS AS IDENTITY,
            session_key TEXT NOT NULL,
            session_id TEXT NOT NULL REFERENCES transcripts (session_id),
            created_at BIGINT NOT NULL,
            data JSON NOT NULL
        );
        CREATE INDEX checkpoints_session
            ON checkpoints (session_key, created_at DESC, row_order DESC);
        CREATE INDEX checkpoints_session_id ON checkpoints (session_id);

        CREATE TABLE run_leases (
            run_id TEXT PRIMARY KEY,
            session_key TEXT NOT NULL,
            owner TEXT NOT NULL,
            epoch BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE INDEX run_leases_expiry ON run_leases (expires_at);
        """,
    ),
    (
        # Tenants (domain/tenants.py): each row's key namespace in a column, so labels are
        # unique per tenant and quotas count a tenant's rows by index; and the usage ledger.
        # Rows written before tenants are the default tenant's ('').
        "0002_tenants",
        """
        ALTER TABLE sessions ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT '';
        UPDATE sessions SET namespace = substring(key from '^tenant:[^:]+:')
            WHERE key ~ '^tenant:[^:]+:';
        DROP INDEX sessions_label;
        CREATE UNIQUE INDEX sessions_label ON sessions (namespace, agent_id, label)
            WHERE label <> '';
        CREATE INDEX sessions_namespace ON sessions (namespace, updated_at DESC, key DESC);

        ALTER TABLE runs ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT '';
        UPDATE runs SET namespace = substring(session_key from '^tenant:[^:]+:')
            WHERE session_key ~ '^tenant:[^:]+:';
        CREATE INDEX runs_created ON runs (namespace, created_at);
        CREATE INDEX runs_namespace_open ON runs (namespace, status)
            WHERE status IN ('queued', 'running');

        ALTER TABLE transcripts ADD COLUMN namespace TEXT COLLATE "C" NOT NULL DEFAULT '';
        UPDATE transcripts SET namespace = substring(session_key from '^tenant:[^:]+:')
            WHERE session_key ~ '^tenant:[^:]+:';

        CREATE TABLE usage (
            namespace TEXT COLLATE "C" NOT NULL,
            hour BIGINT NOT NULL,
            agent_id TEXT COLLATE "C" NOT NULL,
            model TEXT COLLATE "C" NOT NULL,
            runs BIGINT NOT NULL DEFAULT 0,
            input_tokens BIGINT NOT NULL DEFAULT 0,
            output_tokens BIGINT NOT NULL DEFAULT 0,
            total_tokens BIGINT NOT NULL DEFAULT 0,
            cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
            PRIMARY KEY (namespace, hour, agent_id, model)
        );
        CREATE INDEX usage_hour ON usage (hour);
        """,
    ),
]


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Applies pending migrations on an autocommit connection; returns the names applied."""
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS _migrations ("
            " name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {str(row[0]) for row in conn.execute("SELECT name FROM _migrations")}
        applied: list[str] = []
        for name, sql in MIGRATIONS:
            if name in done:
                continue
            with conn.transaction():
                conn.execute(sql)
                conn.execute("INSERT INTO _migrations (name) VALUES (%s)", (name,))
            applied.append(name)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATIONS_LOCK,))
