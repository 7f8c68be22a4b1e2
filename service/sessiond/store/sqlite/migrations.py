"""Versioned schema migrations, applied in order and recorded in `_migrations`."""

from __future__ import annotations

import sqlite3

import sqlite_utils

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE transcripts (
            session_id TEXT PRIMARY KEY,
            session_key TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            archived_at INTEGER,
            archive_reason TEXT,
            message_count INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX transcripts_archived ON transcripts (archived_at DESC, session_id DESC)
            WHERE archived_at IS NOT NULL;
        CREATE INDEX transcripts_key ON transcripts (session_key);

        CREATE TABLE sessions (
            key TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES transcripts (session_id),
            agent_id TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            parent_session_key TEXT NOT NULL DEFAULT '',
            active_run_id TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE UNIQUE INDEX sessions_label ON sessions (agent_id, label) WHERE label != '';
        CREATE INDEX sessions_updated ON sessions (updated_at DESC, key DESC);
        CREATE INDEX sessions_session_id ON sessions (session_id);

        CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES transcripts (session_id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            role TEXT NOT NULL,
            silent INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (session_id, seq)
        ) WITHOUT ROWID;

        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            session_key TEXT NOT NULL,
            status TEXT NOT NULL,
            idempotency_key TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE UNIQUE INDEX runs_idempotency ON runs (session_key, idempotency_key)
            WHERE idempotency_key != '';
        CREATE INDEX runs_session ON runs (session_key, created_at DESC);
        CREATE INDEX runs_open ON runs (status) WHERE status IN ('queued', 'running');

        CREATE TABLE event_heads (
            session_key TEXT PRIMARY KEY,
            last_cursor INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE events (
            global_seq INTEGER PRIMARY KEY AUTOINCREMENT,
            session_key TEXT NOT NULL,
            cursor INTEGER NOT NULL,
            kind TEXT NOT NULL,
            run_id TEXT NOT NULL DEFAULT '',
            reason TEXT,
            ts INTEGER NOT NULL,
            payload TEXT NOT NULL,
            UNIQUE (session_key, cursor)
        );

        CREATE TABLE checkpoints (
            checkpoint_id TEXT PRIMARY KEY,
            session_key TEXT NOT NULL,
            session_id TEXT NOT NULL REFERENCES transcripts (session_id),
            created_at INTEGER NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX checkpoints_session ON checkpoints (session_key, created_at DESC);
        """,
    ),
    (
        # Starting a session's next run searched every run the session ever had.
        "0002_queued_runs",
        """
        CREATE INDEX runs_queued ON runs (session_key, created_at) WHERE status = 'queued';
        """,
    ),
    (
        # Idempotency keys are scoped to the session's instance: a key deleted and created
        # again does not answer with the runs of the one before (rows before: scope '').
        "0003_idempotency_scope",
        """
        ALTER TABLE runs ADD COLUMN scope TEXT NOT NULL DEFAULT '';
        DROP INDEX runs_idempotency;
        CREATE UNIQUE INDEX runs_idempotency ON runs (session_key, scope, idempotency_key)
            WHERE idempotency_key != '';
        """,
    ),
    (
        # Run ownership when several replicas share a store (core/runs/ownership.py).
        "0004_run_leases",
        """
        CREATE TABLE run_leases (
            run_id TEXT PRIMARY KEY,
            session_key TEXT NOT NULL,
            owner TEXT NOT NULL,
            epoch INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE INDEX run_leases_expiry ON run_leases (expires_at);
        """,
    ),
    (
        # Tenants (domain/tenants.py): each row's key namespace in a column, so labels are
        # unique per tenant and quotas count a tenant's rows by index; and the usage ledger.
        # Rows written before tenants are the default tenant's ('').
        "0005_tenants",
        """
        ALTER TABLE sessions ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
        UPDATE sessions SET namespace = substr(key, 1, 7 + instr(substr(key, 8), ':'))
            WHERE substr(key, 1, 7) = 'tenant:' AND instr(substr(key, 8), ':') > 1;
        DROP INDEX sessions_label;
        CREATE UNIQUE INDEX sessions_label ON sessions (namespace, agent_id, label)
            WHERE label != '';
        CREATE INDEX sessions_namespace ON sessions (namespace, updated_at DESC, key DESC);

        ALTER TABLE runs ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
        UPDATE runs SET namespace = substr(session_key, 1, 7 + instr(substr(session_key, 8), ':'))
            WHERE substr(session_key, 1, 7) = 'tenant:' AND instr(substr(session_key, 8), ':') > 1;
        CREATE INDEX runs_created ON runs (namespace, created_at);
        CREATE INDEX runs_namespace_open ON runs (namespace, status)
            WHERE status IN ('queued', 'running');

        ALTER TABLE transcripts ADD COLUMN namespace TEXT NOT NULL DEFAULT '';
        UPDATE transcripts
            SET namespace = substr(session_key, 1, 7 + instr(substr(session_key, 8), ':'))
            WHERE substr(session_key, 1, 7) = 'tenant:' AND instr(substr(session_key, 8), ':') > 1;

        CREATE TABLE usage (
            namespace TEXT NOT NULL,
            hour INTEGER NOT NULL,
            agent_id TEXT NOT NULL,
            model TEXT NOT NULL,
            runs INTEGER NOT NULL DEFAULT 0,
            input_tokens INTEGER NOT NULL DEFAULT 0,
            output_tokens INTEGER NOT NULL DEFAULT 0,
            total_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL NOT NULL DEFAULT 0,
            PRIMARY KEY (namespace, hour, agent_id, model)
        ) WITHOUT ROWID;
        CREATE INDEX usage_hour ON usage (hour);
        """,
    ),
]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Applies pending migrations, each in its own transaction; returns the names applied."""
    db = sqlite_utils.Database(conn)
    db["_migrations"].create(  # type: ignore[union-attr]
        {"name": str, "applied_at": str}, pk="name", if_not_exists=True
    )
    done = {row["name"] for row in db["_migrations"].rows}
    applied: list[str] = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, datetime('now'))", (name,)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
