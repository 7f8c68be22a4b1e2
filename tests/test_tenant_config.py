"""`[tenants.<id>]`, the tenant of tokens and agents' abort_policy: read strictly."""

from __future__ import annotations

from pathlib import Path

import pytest
from sessiond import config as config_module
from sessiond.config import TenantConfig


def load(tmp_path: Path, text: str) -> config_module.Config:
    path = tmp_path / "sessiond.toml"
    path.write_text(text)
    return config_module.load({"SESSIOND_CONFIG": str(path)})


def test_tenants_tokens_and_abort_policies_are_read(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        """
        [tenants.acme]
        max_sessions = 10
        max_runs_per_minute = 60
        max_concurrent_runs = 2
        max_queued_runs = 5
        daily_cost_usd = 1.5
        monthly_cost_usd = 20
        daily_tokens = 1000
        monthly_tokens = 50000
        abort_policy = "owner"

        [agents.main]
        abort_policy = "owner"

        [[auth.tokens]]
        name = "acme-app"
        token = "acme-token-0123456789"
        scope = "write"
        tenant = "acme"

        [[auth.tokens]]
        name = "ops"
        token = "ops-token-0123456789ab"
        scope = "admin"
        all_tenants = true
        """,
    )
    assert loaded.tenants == {
        "acme": TenantConfig(10, 60, 2, 5, 1.5, 20.0, 1000, 50000, "owner"),
    }
    assert loaded.agents["main"].abort_policy == "owner"
    assert [(t.name, t.tenant, t.all_tenants) for t in loaded.auth.tokens] == [
        ("acme-app", "acme", False),
        ("ops", "default", True),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[tenants.acme]\nmax_session = 1\n", r"unknown settings for tenants.acme"),
        ("[tenants.acme]\nmax_sessions = -1\n", r"tenants.acme: max_sessions must not be neg"),
        ("[tenants.acme]\nmax_sessions = 1.5\n", r"max_sessions must be a whole number"),
        ("[tenants.acme]\nmax_sessions = true\n", r"max_sessions must be a number"),
        ('[tenants.acme]\ndaily_cost_usd = "1"\n', r"daily_cost_usd must be a number"),
        ('[tenants.acme]\nabort_policy = "mine"\n', r"abort_policy must be owner or tenant"),
        ('[tenants."Acme Inc"]\nmax_sessions = 1\n', r"tenant ids are"),
        ('[agents.main]\nabort_policy = ""\n', r"agent main: abort_policy must be owner"),
        (
            '[[auth.tokens]]\ntoken = "t-0123456789abcdef"\ntenant = "a:b"\n',
            r"token 'token-1': tenant ids are",
        ),
        (
            '[[auth.tokens]]\ntoken = "t-0123456789abcdef"\nscope = "write"\nall_tenants = true\n',
            r"all_tenants needs the admin scope",
        ),
        (
            '[[auth.tokens]]\ntoken = "t-0123456789abcdef"\nall_tenants = "yes"\n',
            r"all_tenants must be true or false",
        ),
    ],
)
def test_bad_tenant_settings_fail_the_load(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(config_module.ConfigError, match=message):
        load(tmp_path, text)
