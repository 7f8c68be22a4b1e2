"""The Store contract, part 5: key namespaces (tenants) and the usage ledger.

A key's namespace is its `tenant:<id>:` prefix, "" for keys without one
(`domain/tenants.py`): labels are unique per namespace and agent, and the queries that
take a namespace keep to it (None: every namespace).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from sessiond.domain.errors import LabelInUse
from sessiond.domain.models import HOUR_MS, RunStatus, Usage, UsageEntry, hour_of
from sessiond.domain.tenants import namespace, namespace_of, tenant_of
from sessiond.store.base import RunWindow, SessionQuery, Store, WriteTx

from contract.store_records import insert, run, session

ACME = "tenant:acme:"
BETA = "tenant:beta:"


def keys_of(sessions: list[object]) -> list[str]:
    return [s.key for s in sessions]  # type: ignore[attr-defined]


def test_namespaces_of_keys() -> None:
    assert namespace("default") == ""
    assert namespace("acme") == ACME
    assert namespace_of("agent:main:a") == ""
    assert namespace_of("global") == ""
    assert namespace_of(f"{ACME}agent:main:a") == ACME
    assert namespace_of(f"{ACME}global") == ACME
    assert tenant_of(f"{BETA}agent:main:a") == "beta"
    assert tenant_of("agent:main:a") == "default"


async def test_labels_are_unique_per_namespace_and_agent(store: Store) -> None:
    await insert(
        store,
        session("agent:main:a", label="Shared"),
        session(f"{ACME}agent:main:a", label="Shared"),
        session(f"{BETA}agent:main:b", label="Shared"),
    )
    with pytest.raises(LabelInUse):
        await insert(store, session(f"{ACME}agent:main:other", label="Shared"))

    def find(space: str | None) -> object:
        return store.read(lambda tx: keys_of(tx.find_sessions_by_label("Shared", "main", space)))

    assert await find("") == ["agent:main:a"]
    assert await find(ACME) == [f"{ACME}agent:main:a"]
    assert await find(None) == ["agent:main:a", f"{ACME}agent:main:a", f"{BETA}agent:main:b"]
    # Relabelling within a namespace frees the label there only.
    moved = replace(session(f"{ACME}agent:main:a"), label="Other")
    await store.write(lambda tx: tx.update_session(moved))
    await insert(store, session(f"{ACME}agent:main:c", label="Shared"))
    assert await find(ACME) == [f"{ACME}agent:main:c"]


async def test_sessions_are_listed_and_counted_per_namespace(store: Store) -> None:
    await insert(
        store,
        session("agent:main:a", updated_at=1),
        session("global", updated_at=2),
        session(f"{ACME}agent:main:a", updated_at=3),
        session(f"{ACME}global", updated_at=4),
        session(f"{BETA}agent:main:a", updated_at=5),
    )

    def listed(space: str | None) -> object:
        query = SessionQuery(namespace=space)
        return store.read(lambda tx: keys_of(tx.list_sessions(query, 10, None)))

    assert await listed("") == ["global", "agent:main:a"]
    assert await listed(ACME) == [f"{ACME}global", f"{ACME}agent:main:a"]
    assert await listed(BETA) == [f"{BETA}agent:main:a"]
    assert len(await listed(None)) == 5  # type: ignore[arg-type]
    counts = await store.read(
        lambda tx: [tx.count_sessions(s) for s in ("", ACME, BETA, "tenant:none:")]
    )
    assert counts == [2, 2, 1, 0]


async def test_archives_are_listed_per_namespace(store: Store) -> None:
    await insert(store, session("agent:main:a"), session(f"{ACME}agent:main:a"))

    def archive(tx: WriteTx) -> None:
        tx.archive_transcript("sid-agent:main:a", "reset", 10)
        tx.archive_transcript(f"sid-{ACME}agent:main:a", "reset", 20)

    await store.write(archive)

    def listed(space: str | None) -> object:
        return store.read(lambda tx: [a.session_key for a in tx.list_archives("", 10, None, space)])

    assert await listed("") == ["agent:main:a"]
    assert await listed(ACME) == [f"{ACME}agent:main:a"]
    assert await listed(None) == [f"{ACME}agent:main:a", "agent:main:a"]

    def old(space: str | None) -> object:
        return store.read(lambda tx: [a.session_key for a in tx.archives_before(100, space)])

    assert await old(ACME) == [f"{ACME}agent:main:a"]
    assert await old("") == ["agent:main:a"]
    assert await old(None) == ["agent:main:a", f"{ACME}agent:main:a"]


async def test_runs_are_counted_per_namespace_and_status(store: Store) -> None:
    def write(tx: WriteTx) -> None:
        tx.insert_run(run("d1", "agent:main:a", status=RunStatus.RUNNING, created_at=100))
        tx.insert_run(run("d2", "agent:main:a", status=RunStatus.QUEUED, created_at=200))
        tx.insert_run(run("a1", f"{ACME}agent:main:a", status=RunStatus.RUNNING, created_at=150))
        tx.insert_run(run("a2", f"{ACME}agent:main:b", status=RunStatus.RUNNING, created_at=250))
        tx.insert_run(run("a3", f"{ACME}agent:main:b", status=RunStatus.QUEUED, created_at=300))

    await store.write(write)

    def counts() -> object:
        return store.read(
            lambda tx: [
                tx.count_namespace_runs(space, status)
                for space in ("", ACME, BETA)
                for status in (RunStatus.RUNNING, RunStatus.QUEUED)
            ]
        )

    assert await counts() == [1, 1, 2, 1, 0, 0]
    ended = run("a1", f"{ACME}agent:main:a", status=RunStatus.DONE, created_at=150)
    await store.write(lambda tx: tx.update_run(ended))
    assert await counts() == [1, 1, 1, 1, 0, 0]
    windows = await store.read(
        lambda tx: [
            tx.runs_created_since(ACME, 0),
            tx.runs_created_since(ACME, 200),
            tx.runs_created_since("", 150),
            tx.runs_created_since(BETA, 0),
        ]
    )
    assert windows == [RunWindow(3, 150), RunWindow(2, 250), RunWindow(1, 200), RunWindow(0, 0)]


async def test_usage_is_summed_per_namespace_agent_model_and_hour(store: Store) -> None:
    hour = hour_of(1_700_000_000_000)
    entries = [
        UsageEntry("", "main", "m1", hour, 1, Usage(10, 5, 15, 99, 0.5)),
        UsageEntry("", "main", "m1", hour, 1, Usage(1, 2, 3, 7, 0.25)),
        UsageEntry("", "main", "m2", hour, 1, Usage(4, 4, 8, 0, 1.0)),
        UsageEntry(ACME, "main", "m1", hour, 2, Usage(100, 0, 100, 0, 2.0)),
        UsageEntry(ACME, "main", "m1", hour + HOUR_MS, 1, Usage(1, 1, 2, 0, 0.125)),
    ]

    def write(tx: WriteTx) -> None:
        for entry in entries:
            tx.add_usage(entry)

    await store.write(write)
    everything = await store.read(lambda tx: tx.usage_entries(None, 0, hour + 2 * HOUR_MS))
    assert everything == [
        UsageEntry("", "main", "m1", hour, 2, Usage(11, 7, 18, 0, 0.75)),
        UsageEntry("", "main", "m2", hour, 1, Usage(4, 4, 8, 0, 1.0)),
        UsageEntry(ACME, "main", "m1", hour, 2, Usage(100, 0, 100, 0, 2.0)),
        UsageEntry(ACME, "main", "m1", hour + HOUR_MS, 1, Usage(1, 1, 2, 0, 0.125)),
    ]
    # [start, end) by the hour's start, and one namespace.
    later = await store.read(lambda tx: tx.usage_entries(ACME, hour + 1, hour + 2 * HOUR_MS))
    assert [e.hour for e in later] == [hour + HOUR_MS]
    assert await store.read(lambda tx: tx.usage_entries("", hour + HOUR_MS, hour * 2)) == []
    totals = await store.read(
        lambda tx: [
            tx.usage_total(ACME, hour),
            tx.usage_total(ACME, hour + 1),
            tx.usage_total("", 0),
            tx.usage_total(BETA, 0),
        ]
    )
    assert totals == [
        Usage(101, 1, 102, 0, 2.125),
        Usage(1, 1, 2, 0, 0.125),
        Usage(15, 11, 26, 0, 1.75),
        Usage(),
    ]


async def test_a_failed_write_adds_no_usage(store: Store) -> None:
    class Rejected(Exception):
        pass

    def write(tx: WriteTx) -> None:
        tx.add_usage(UsageEntry("", "main", "m", 0, 1, Usage(1, 1, 2, 0, 1.0)))
        raise Rejected

    with pytest.raises(Rejected):
        await store.write(write)
    assert await store.read(lambda tx: tx.usage_entries(None, 0, HOUR_MS)) == []
