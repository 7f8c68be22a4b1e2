"""`sessiond usage` and the tenant on `sessions list`: the CLI against a live server with
tenants' tokens, as a user runs it."""

from __future__ import annotations

import json

import pytest
from conftest import ServerHandle
from sessiond.config import Config
from tenant_helpers import TOKENS, with_tokens
from test_cli import _run


@pytest.fixture
def config(config: Config) -> Config:
    return with_tokens(config)


def as_(who: str, server: ServerHandle) -> tuple[str, ...]:
    return ("--target", server.target, "--token", TOKENS[who].token)


async def test_usage_and_the_tenant_of_listed_sessions(server: ServerHandle) -> None:
    acme = as_("acme", server)
    assert (await _run("chat", "one", "hello", *acme))[0] == 0
    assert (await _run("chat", "agent:main:two", "hello again", *acme))[0] == 0
    code, out, err = await _run("usage", "--since", "24h", "--by", "agent,model", "--json", *acme)
    assert code == 0, err
    [row] = [json.loads(line) for line in out.splitlines()]
    assert (row["agentId"], row["runs"]) == ("main", "2")
    assert int(row["usage"]["totalTokens"]) > 0
    code, out, _ = await _run("usage", "--by", "tenant", *acme)
    assert code == 0
    assert "acme" in out
    assert "runs" in out
    code, out, _ = await _run("sessions", "list", "--json", *acme)
    assert {(s["tenant"], s["key"]) for s in map(json.loads, out.splitlines())} == {
        ("acme", "agent:main:one"),
        ("acme", "agent:main:two"),
    }
    code, out, _ = await _run("sessions", "list", "--json", *as_("operator", server))
    assert {(s["tenant"], s["key"]) for s in map(json.loads, out.splitlines())} == {
        ("acme", "tenant:acme:agent:main:one"),
        ("acme", "tenant:acme:agent:main:two"),
    }
    code, out, _ = await _run("sessions", "list", *as_("beta", server))
    assert code == 0
    assert "agent:main:one" not in out


async def test_usage_refuses_what_is_not_a_time_or_a_grouping(server: ServerHandle) -> None:
    code, _, err = await _run("usage", "--since", "yesterday", *as_("acme", server))
    assert code == 2
    assert "not a time or an age" in err
    code, _, err = await _run("usage", "--by", "color", *as_("acme", server))
    assert code == 2
    assert "--by takes" in err
