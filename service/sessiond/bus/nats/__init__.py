"""The NATS bus: live events across replicas (`SESSIOND_NATS_URL`). See `bus.py`."""

from sessiond.bus.nats.bus import NatsBus

__all__ = ["NatsBus"]
