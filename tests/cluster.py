"""Three replicas on one PostgreSQL and one NATS, for the tests that run against a server
and a cluster alike (modules marked `replicated`; see conftest.py).

The replicas run in the test's process (three `start_server`s, each with its own store
pool and NATS connection, as separate processes would have); a client reaches them
through one channel that sends each call to the next replica (round robin), so a stream
opened on one replica follows runs that Sends started on the others. The crash of a
replica (kill -9) is tested with real processes in test_cluster.py.
"""

from __future__ import annotations

from dataclasses import replace

from sessiond.config import BusConfig, Config
from sessiond.server import RunningServer, start_server

REPLICAS = 3
SPREAD = [("grpc.lb_policy_name", "round_robin")]
"""Channel options that spread calls over every address of a multi-address target."""


def cluster_config(config: Config, database_url: str, nats_url: str, prefix: str) -> Config:
    """`config` for one replica of a cluster (short leases: a test does not wait long)."""
    return replace(
        config,
        port=0,
        database_url=database_url,
        bus=BusConfig(nats_url, prefix),
        run_lease_ms=3000,
        run_lease_renew_ms=500,
    )


class ClusterHandle:
    """Stands where a ServerHandle does: `target` names every replica, `running` is the
    first one's, and a restart restarts them all on their ports."""

    def __init__(self, config: Config) -> None:
        self.configs = [config] * REPLICAS
        self.replicas: list[RunningServer] = []

    @property
    def config(self) -> Config:
        return self.configs[0]

    @property
    def running(self) -> RunningServer | None:
        return self.replicas[0] if self.replicas else None

    @property
    def target(self) -> str:
        return "ipv4:" + ",".join(f"127.0.0.1:{r.port}" for r in self.replicas)

    @property
    def channel_options(self) -> list[tuple[str, object]]:
        return list(SPREAD)

    async def start(self) -> None:
        for index, config in enumerate(self.configs):
            running = await start_server(config)
            self.replicas.append(running)
            # Restarts reuse the bound ports so existing channels reconnect.
            self.configs[index] = replace(config, port=running.port)

    async def stop(self, grace: float = 1.0) -> None:
        replicas, self.replicas = self.replicas, []
        for running in replicas:
            await running.stop(grace)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
