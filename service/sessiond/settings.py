"""The settings as frozen dataclasses, one docstring per field (what, unit, env var).

Loaded, layered and validated by `sessiond.config`, the one module that reads the
environment; everything else receives a `Config`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sessiond.domain.tenants import DEFAULT_TENANT
from sessiond.domain.tokens import DEFAULT_CONTEXT_TOKENS

MIB = 1024 * 1024


class ConfigError(ValueError):
    """The configuration is invalid; the message says which setting."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """The price of one model, `[agents.<id>.prices."<model>"]`."""

    input_per_mtok: float = 0.0
    """US dollars per million input tokens."""
    output_per_mtok: float = 0.0
    """US dollars per million output tokens."""


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """One agent, `[agents.<id>]` in the TOML config."""

    backend: str = "echo"
    """`echo` (offline, default) or `openai` (any OpenAI-compatible endpoint)."""
    model: str = ""
    """Default model of the agent's sessions."""
    base_url: str = ""
    """Endpoint of the `openai` backend."""
    api_key_env: str = ""
    """Name of the environment variable holding the API key."""
    system_prompt: str = ""
    """System prompt sent before the transcript."""
    context_tokens: int = DEFAULT_CONTEXT_TOKENS
    """Token budget of what a run sends the model, the system prompt included (estimated
    at about four characters a token): the oldest turns of a longer transcript are left
    out, and the run's `history_omitted` event says how many entries. Set it to the
    model's context window minus the room wanted for its reply."""
    price_input_per_mtok: float = 0.0
    """US dollars per million input tokens, for cost estimates."""
    price_output_per_mtok: float = 0.0
    """US dollars per million output tokens."""
    allowed_models: tuple[str, ...] = ()
    """The models the agent's endpoint serves: sessions may only choose these. Empty: any
    model (the echo backend ignores it)."""
    prices: dict[str, ModelPrice] = field(default_factory=dict)
    """Prices of models that cost otherwise than the agent's `price_*_per_mtok`: a session
    whose model is listed here is charged its price."""
    request_timeout_s: float = 600.0
    """Timeout of one request to the `openai` backend's endpoint."""
    reasoning_effort: bool = False
    """The `openai` backend sends the run's thinking level as `reasoning_effort` (for
    reasoning models: models without it reject the parameter)."""
    abort_policy: str = "tenant"
    """Who may Abort or Steer a run of the agent's sessions: `tenant` (any token of the
    session's tenant with the write scope) or `owner` (only the token that started it,
    and admin tokens). A tenant's own `abort_policy` overrides it."""
    api_key: str = field(default="", repr=False)
    """Resolved from `api_key_env` when the config is loaded; never logged."""


def _default_agents() -> dict[str, AgentConfig]:
    return {"main": AgentConfig()}


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """One tenant, `[tenants.<id>]`: its quotas, budgets and abort policy. 0 means no limit.

    Quotas hold across replicas sharing a PostgreSQL store (they are counted in the
    transaction that admits a session or a run); budgets are checked against the usage
    recorded when runs end."""

    max_sessions: int = 0
    """Sessions the tenant may hold; CreateSession (and BranchCheckpoint) past it is
    RESOURCE_EXHAUSTED `QUOTA_EXCEEDED`."""
    max_runs_per_minute: int = 0
    """Runs (Send, Steer, Chat, CreateSession's initial message) the tenant may start or
    queue in any 60 seconds."""
    max_concurrent_runs: int = 0
    """Runs of the tenant executing at once; a Send that would start one more is refused
    (a Send that queues behind a session's active run is not)."""
    max_queued_runs: int = 0
    """Runs of the tenant waiting in session queues, all sessions together."""
    daily_cost_usd: float = 0.0
    """Estimated cost the tenant's runs may spend per UTC day (US dollars)."""
    monthly_cost_usd: float = 0.0
    """Estimated cost per UTC calendar month."""
    daily_tokens: int = 0
    """Tokens (input + output) per UTC day."""
    monthly_tokens: int = 0
    """Tokens per UTC calendar month."""
    abort_policy: str = ""
    """`owner` or `tenant` (see `AgentConfig.abort_policy`); empty: each agent's."""


@dataclass(frozen=True, slots=True)
class TLSConfig:
    """`[tls]`: TLS, and mutual TLS when a client CA is given. Off when no certificate is set."""

    cert_file: Path | None = None
    """PEM certificate chain of the server (`SESSIOND_TLS_CERT`, `--tls-cert`)."""
    key_file: Path | None = None
    """PEM private key of the server (`SESSIOND_TLS_KEY`, `--tls-key`)."""
    client_ca_file: Path | None = None
    """PEM CA bundle; when set, clients must present a certificate it signed (mTLS)
    (`SESSIOND_TLS_CLIENT_CA`, `--tls-client-ca`)."""

    @property
    def enabled(self) -> bool:
        return self.cert_file is not None


@dataclass(frozen=True, slots=True)
class TransportConfig:
    """`[transport]`: HTTP/2 and gRPC channel settings for running behind a mesh or an L4
    load balancer. Defaults suit Envoy/Istio/Linkerd sidecars; `0` means "never" for the
    connection limits and "unlimited" for `max_concurrent_rpcs`."""

    keepalive_time_ms: int = 60_000
    """The server pings an idle connection this often, so dead peers (and the streams
    they held) are noticed behind NATs and proxies (`grpc.keepalive_time_ms`)."""
    keepalive_timeout_ms: int = 20_000
    """A ping unanswered this long closes the connection (`grpc.keepalive_timeout_ms`)."""
    keepalive_permit_without_calls: bool = True
    """Accept (and send) keepalive pings on connections without calls, so clients that
    keep idle channels warm are not sent GOAWAY too_many_pings."""
    min_ping_interval_ms: int = 10_000
    """Client pings closer together than this count as strikes
    (`grpc.http2.min_ping_interval_without_data_ms`)."""
    max_ping_strikes: int = 2
    """Strikes before the connection is closed with too_many_pings; 0 = unlimited."""
    max_connection_idle_ms: int = 300_000
    """A connection without calls for this long is closed with GOAWAY."""
    max_connection_age_ms: int = 1_800_000
    """Connections are recycled (GOAWAY) after this age (±10% jitter), so clients
    rebalance across replicas that were added after they connected."""
    max_connection_age_grace_ms: int = 60_000
    """Calls still open on a recycled connection get this long; streams then end
    UNAVAILABLE and clients resume by cursor."""
    max_receive_message_bytes: int = 16 * MIB
    """Largest request accepted (an attachment is at most 5 MB decoded)."""
    max_send_message_bytes: int = 64 * MIB
    """Largest response sent (long transcripts come whole)."""
    max_concurrent_rpcs: int = 10_000
    """Calls (streams included) served at once; more get RESOURCE_EXHAUSTED."""


@dataclass(frozen=True, slots=True)
class BusConfig:
    """`[bus]`: how live events reach streams. In-process (the default: one replica), or
    NATS, through which several replicas see each other's events."""

    nats_url: str = field(default="", repr=False)
    """`nats://host:4222` (or `tls://`, `ws://`, `wss://`; several comma-separated): the
    NATS bus; empty = in-process (`SESSIOND_NATS_URL`). It may hold credentials: it is
    never logged."""
    subject_prefix: str = "sessiond"
    """NATS subjects are `<prefix>.chat.<key, base64url>` and `<prefix>.feed`; replicas
    that share sessions share the prefix (`SESSIOND_NATS_SUBJECT_PREFIX`)."""


@dataclass(frozen=True, slots=True)
class TokenConfig:
    """One bearer token and what it may do."""

    token: str = field(repr=False)
    """The secret; compared in constant time, never logged."""
    scopes: tuple[str, ...] = ("read",)
    """`read`, `write` or `admin` (admin includes write includes read)."""
    name: str = ""
    """Who holds the token; logged in its place, and recorded as the runs it starts'
    `started_by`."""
    tenant: str = DEFAULT_TENANT
    """The tenant whose sessions the token sees and changes."""
    all_tenants: bool = False
    """With the admin scope: read every tenant's data, keys shown as stored
    (`tenant:<id>:<key>`); writes stay within `tenant`."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """`[auth]`: bearer tokens. No tokens = auth off (loopback only unless `insecure`)."""

    tokens: tuple[TokenConfig, ...] = ()
    """Tokens from `[[auth.tokens]]` plus those of `tokens_file`."""
    tokens_file: Path | None = None
    """TOML file of `[[tokens]]` tables (`SESSIOND_TOKENS_FILE`, `--tokens-file`), e.g. a
    mounted Kubernetes Secret, so tokens stay out of the main config."""


@dataclass(frozen=True, slots=True)
class Config:
    """`[server]` holds the top-level settings; `[bus]`, `[tls]`, `[transport]`, `[auth]`,
    `[agents.<id>]` and `[tenants.<id>]` the nested ones."""

    host: str = "127.0.0.1"
    """Address to bind (`SESSIOND_HOST`, `--host`)."""
    port: int = 50051
    """Port to bind; 0 picks a free one (`SESSIOND_PORT`, `--port`)."""
    db_path: Path = Path("data/sessiond.db")
    """SQLite database file (`SESSIOND_DB`, `--db`)."""
    database_url: str = field(default="", repr=False)
    """The store: empty = the SQLite file `db_path`; `postgresql://user:password@host/db`
    (or `postgres://`, any libpq URL) = the PostgreSQL database that several replicas
    share; `memory:` = in memory, for tests and development (nothing persists)
    (`SESSIOND_DATABASE_URL`). It may hold a password: it is never logged."""
    store_readers: int = 4
    """Reader threads of the store; the PostgreSQL store pools `store_readers + 1`
    connections per replica (one for the writer) (`SESSIOND_STORE_READERS`)."""
    sqlite_synchronous: str = "NORMAL"
    """SQLite `synchronous` pragma: NORMAL or FULL (`SESSIOND_SQLITE_SYNCHRONOUS`)."""
    default_agent: str = "main"
    """Agent of keys without an agent scope."""
    agents: dict[str, AgentConfig] = field(default_factory=_default_agents)
    """Configured agents by id."""
    tenants: dict[str, TenantConfig] = field(default_factory=dict)
    """Tenants with quotas, budgets or an abort policy, by id (`[tenants.<id>]`); a tenant
    not listed (tokens may name any) has no limits."""
    delta_interval_ms: int = 150
    """Live deltas of a run are coalesced and sent at most this often."""
    heartbeat_ms: int = 15000
    """Idle chat streams get a heartbeat event this often."""
    run_timeout_ms: int = 600_000
    """Default run timeout; a run past it stops with stop reason `timeout`."""
    silent_token: str = "NO_REPLY"
    """A reply that is exactly this text is silent: no deltas, a final without message."""
    echo_chunk_chars: int = 8
    """Characters per delta of the echo backend."""
    echo_delay_ms: int = 20
    """Delay before each echo delta (0 streams as fast as possible)."""
    subscriber_max_pending: int = 1024
    """Events a stream may lag behind before it is ended with RESOURCE_EXHAUSTED."""
    run_lease_ms: int = 15000
    """With replicas sharing a store: how long a run's lease lasts; a replica that dies
    has its runs closed by another this long after its last renewal
    (`SESSIOND_RUN_LEASE_MS`)."""
    run_lease_renew_ms: int = 5000
    """How often a replica renews the leases of its runs; well under `run_lease_ms`
    (`SESSIOND_RUN_LEASE_RENEW_MS`)."""
    max_queued_runs: int = 20
    """Runs a session may have waiting behind its active one; a Send past it is
    RESOURCE_EXHAUSTED `QUEUE_FULL` (`SESSIOND_MAX_QUEUED_RUNS`)."""
    auto_compact_tokens: int = 0
    """Compact a session (summarising) after a run when its context exceeds this; 0 = off
    (`SESSIOND_AUTO_COMPACT_TOKENS`)."""
    cleanup_interval_s: float = 0.0
    """Apply the cleanup policy below this often; 0 = no periodic sweep, the default
    (`SESSIOND_CLEANUP_INTERVAL_S`)."""
    cleanup_max_age_s: float = 0.0
    """Periodic sweep: remove sessions not updated for this long; 0 = any age."""
    cleanup_max_count: int = 0
    """Periodic sweep: keep at most this many sessions per agent; 0 = no cap."""
    cleanup_archive_max_age_s: float = 0.0
    """Periodic sweep: drop archived transcripts older than this; 0 = keep all."""
    event_retention_s: float = 0.0
    """Drop cursor-log events older than this; 0 keeps all, the default. Resuming from a
    dropped cursor gets OUT_OF_RANGE `CURSOR_EXPIRED` (`SESSIOND_EVENT_RETENTION_S`)."""
    drain_ms: int = 5000
    """On SIGTERM/SIGINT health reports NOT_SERVING this long before the server stops,
    while it keeps serving, so load balancers and meshes stop routing to it first
    (`SESSIOND_DRAIN_MS`)."""
    grace_s: float = 10.0
    """Seconds in-flight calls get to finish on shutdown (`SESSIOND_GRACE_S`)."""
    insecure: bool = False
    """Allow a non-loopback bind with auth off (`SESSIOND_INSECURE`, `--insecure`)."""
    metrics_port: int | None = None
    """Prometheus `/metrics` HTTP port; unset = off, 0 = any free port
    (`SESSIOND_METRICS_PORT`, `--metrics-port`)."""
    metrics_host: str = ""
    """Address of the metrics endpoint; empty = the gRPC `host` (`SESSIOND_METRICS_HOST`)."""
    tracing: bool = False
    """OpenTelemetry tracing of every call, exported by OTLP/gRPC (`SESSIOND_TRACING`);
    needs the `tracing` extra."""
    otlp_endpoint: str = ""
    """OTLP/gRPC collector; empty = the exporter's default (`OTEL_EXPORTER_OTLP_ENDPOINT`,
    else localhost:4317) (`SESSIOND_OTLP_ENDPOINT`)."""
    log_format: str = "json"
    """`json` or `console` (`SESSIOND_LOG_FORMAT`)."""
    log_level: str = "info"
    """Minimum log level (`SESSIOND_LOG_LEVEL`)."""
    event_loop: str = "uvloop"
    """`uvloop` or `asyncio` (the standard loop) for `sessiond serve`
    (`SESSIOND_EVENT_LOOP`, `--event-loop`)."""
    bus: BusConfig = field(default_factory=BusConfig)
    """The live-event bus (NATS for several replicas)."""
    tls: TLSConfig = field(default_factory=TLSConfig)
    """TLS / mTLS."""
    transport: TransportConfig = field(default_factory=TransportConfig)
    """Channel options for meshes."""
    auth: AuthConfig = field(default_factory=AuthConfig)
    """Bearer tokens and scopes."""
