"""deploy/: every YAML parses, the Kubernetes manifests validate (kubeconform, offline
schemas from the kubernetes-validate package) and agree with sessiond's settings, the
Dockerfile and the Envoy example follow the serving rules."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import http_rules
import pytest
import yaml
from conftest import ServerHandle
from google.protobuf import descriptor_pb2, descriptor_pool
from sessiond import config as config_module
from sessiond.cli import probe
from sessiond.v1 import chat_service_pb2, session_service_pb2

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
K8S_REPLICAS = DEPLOY / "k8s-replicas"
"""Three replicas on PostgreSQL and NATS; `K8S` is one replica on SQLite."""
VARIANTS = pytest.mark.parametrize("variant", [K8S, K8S_REPLICAS], ids=lambda p: p.name)
KUBECONFORM = ROOT / ".tools" / "go" / "bin" / "kubeconform"
K8S_VERSION = "1.34.0"
REQUIRE = os.environ.get("SESSIOND_REQUIRE_TOOLCHAINS") == "1"


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yaml", ".yml"))


def k8s_objects(variant: Path = K8S) -> dict[str, dict[str, Any]]:
    """Kind -> object of a deploy/k8s* variant (one object per kind there)."""
    objects = {}
    for path in sorted(variant.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            objects[doc["kind"]] = doc
    return objects


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    docs = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert docs, f"{path} is empty"


def _standalone_schemas(out: Path, kinds: list[str]) -> Path:
    """kubernetes-validate's schemas refer to /api/_definitions.json, which kubeconform
    cannot resolve; inline the definitions into one file per kind kubeconform looks up."""
    import kubernetes_validate

    version_dir = f"v{K8S_VERSION}-local-strict"
    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / version_dir
    target = out / f"v{K8S_VERSION}-standalone-strict"
    target.mkdir(parents=True)
    definitions = json.loads((source / "_definitions.json").read_text())["$defs"]
    for name in kinds:
        schema = json.loads((source / name).read_text().replace('"/api/_definitions.json#', '"#'))
        schema["$defs"] = definitions
        (target / name).write_text(json.dumps(schema))
    return out


def _schema_file(obj: dict[str, Any]) -> str:
    group, _, version = obj["apiVersion"].rpartition("/")
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{obj['kind'].lower()}{suffix}.json"


@VARIANTS
def test_kubernetes_manifests_pass_kubeconform(tmp_path: Path, variant: Path) -> None:
    if not KUBECONFORM.exists():
        reason = f"kubeconform not installed at {KUBECONFORM} (run `make kubeconform`)"
        if REQUIRE:
            pytest.fail(reason)
        pytest.skip(reason)
    objects = [o for o in k8s_objects(variant).values() if o["kind"] != "Kustomization"]
    schemas = _standalone_schemas(tmp_path, [_schema_file(o) for o in objects])
    location = str(schemas) + (
        "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"
        "/{{ .ResourceKind }}{{ .KindSuffix }}.json"
    )
    result = subprocess.run(
        [
            str(KUBECONFORM),
            "-strict",
            "-summary",
            "-kubernetes-version",
            K8S_VERSION,
            "-skip",
            "Kustomization",
            "-schema-location",
            location,
            str(variant),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Valid: {len(objects)}, Invalid: 0, Errors: 0" in result.stdout, result.stdout


@VARIANTS
def test_kustomization_lists_every_manifest(variant: Path) -> None:
    kustomization = yaml.safe_load((variant / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in variant.glob("*.yaml")} - {"kustomization.yaml"}


def _configmap_config(
    tmp_path: Path, variant: Path = K8S, env: dict[str, str] | None = None
) -> config_module.Config:
    toml = k8s_objects(variant)["ConfigMap"]["data"]["sessiond.toml"]
    path = tmp_path / "sessiond.toml"
    path.write_text(toml)
    tokens = tmp_path / "tokens.toml"
    tokens.write_text('[[tokens]]\ntoken = "example-token-0123456789"\nscopes = ["admin"]\n')
    # The ConfigMap's TOML must load with sessiond's own loader (unknown keys fail).
    return config_module.load(
        {"SESSIOND_CONFIG": str(path), **(env or {})},
        overrides={"auth.tokens_file": str(tokens)},
    )


@VARIANTS
def test_deployment_agrees_with_the_config(tmp_path: Path, variant: Path) -> None:
    objects = k8s_objects(variant)
    config = _configmap_config(tmp_path, variant)
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"grpc": config.port, "metrics": config.metrics_port}
    for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe_name]["grpc"]["port"] == config.port, probe_name
    # The kubelet's SIGKILL must come after drain + grace.
    assert pod["terminationGracePeriodSeconds"] > config.drain_ms / 1000 + config.grace_s + 5
    # Readiness notices NOT_SERVING within the drain delay.
    readiness = container["readinessProbe"]
    assert readiness["periodSeconds"] * readiness["failureThreshold"] < config.drain_ms / 1000
    # Liveness does not restart a pod that is draining.
    liveness = container["livenessProbe"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > (
        config.drain_ms / 1000 + config.grace_s
    )
    assert pod["securityContext"]["runAsNonRoot"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    toml = tomllib.loads(objects["ConfigMap"]["data"]["sessiond.toml"])
    assert str(Path(toml["auth"]["tokens_file"]).parent) in mounts, "tokens come from the Secret"
    if variant == K8S:
        assert Path(toml["server"]["db_path"]).parent.as_posix() in mounts
    assert config.host == "0.0.0.0"


def test_the_replicas_share_postgres_and_nats_from_a_secret_and_roll(tmp_path: Path) -> None:
    objects = k8s_objects(K8S_REPLICAS)
    deployment = objects["Deployment"]["spec"]
    assert deployment["replicas"] == 3
    assert deployment["strategy"]["type"] == "RollingUpdate", "stateless pods may overlap"
    pod = deployment["template"]["spec"]
    assert "persistentVolumeClaim" not in str(pod["volumes"]), "no volume of their own"
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    for name in ("SESSIOND_DATABASE_URL", "SESSIOND_NATS_URL"):
        assert env[name]["valueFrom"]["secretKeyRef"]["name"] == "sessiond-backends", name
    budget = objects["PodDisruptionBudget"]["spec"]
    assert 1 < budget["minAvailable"] < deployment["replicas"]
    config = _configmap_config(
        tmp_path, K8S_REPLICAS, {"SESSIOND_DATABASE_URL": "postgresql://db/sessiond"}
    )
    assert config.database_url.startswith("postgresql://")
    assert 0 < config.run_lease_renew_ms < config.run_lease_ms
    # A draining replica's runs end (shutdown) within the grace; a killed one's are
    # reaped a lease later: well inside the pod's termination period either way.
    assert pod["terminationGracePeriodSeconds"] > config.run_lease_ms / 1000


@VARIANTS
def test_service_speaks_grpc_and_pdb_selects_the_pods(variant: Path) -> None:
    objects = k8s_objects(variant)
    service_ports = {p["name"]: p for p in objects["Service"]["spec"]["ports"]}
    assert service_ports["grpc"]["appProtocol"] == "grpc"
    labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    for kind in ("Service", "PodDisruptionBudget"):
        spec = objects[kind]["spec"]
        selector = spec["selector"].get("matchLabels", spec["selector"])
        assert selector.items() <= labels.items(), kind


def test_dockerfile_is_slim_non_root_exec_form_with_a_grpc_healthcheck() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    instructions = [
        line.strip() for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip()
    ]
    instructions = [line for line in instructions if not line.startswith("#")]
    assert any(re.fullmatch(r"ARG PYTHON_IMAGE=python:3\.11-slim\S*", i) for i in instructions)
    user = [i for i in instructions if i.startswith("USER ")]
    assert user, "no USER"
    assert user[-1].split()[1].split(":")[0] not in ("0", "root")
    for keyword in ("ENTRYPOINT", "CMD"):
        line = next(i for i in instructions if i.startswith(f"{keyword} "))
        assert isinstance(json.loads(line[len(keyword) + 1 :]), list), f"{keyword} not exec form"
    healthcheck = next(i for i in instructions if i.startswith("HEALTHCHECK "))
    exec_part = healthcheck.split(" CMD ", 1)[1]
    assert json.loads(exec_part)[:2] == ["sessiond", "health"]


def _envoy() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "envoy" / "envoy.yaml").read_text())
    return loaded


def _http_manager() -> dict[str, Any]:
    listener = _envoy()["static_resources"]["listeners"][0]
    config: dict[str, Any] = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return config


def _seconds(value: str) -> float:
    assert value.endswith("s"), value
    return float(value[:-1])


def test_envoy_routes_streams_without_timeout_and_unary_with_one() -> None:
    manager = _http_manager()
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    streams, unary = routes
    pattern = re.compile(streams["match"]["safe_regex"]["regex"])
    assert _seconds(streams["route"]["timeout"]) == 0
    assert _seconds(unary["route"]["timeout"]) > 0
    for module in (session_service_pb2, chat_service_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                path = f"/{service.full_name}/{method.name}"
                long_lived = method.server_streaming or method.name == "WaitRun"
                assert bool(pattern.fullmatch(path)) == long_lived, path
    heartbeat_s = config_module.Config().heartbeat_ms / 1000
    assert _seconds(manager["stream_idle_timeout"]) > heartbeat_s
    assert _seconds(streams["route"]["idle_timeout"]) > heartbeat_s


def test_envoy_upstream_pings_are_not_strikes_and_health_is_grpc() -> None:
    cluster = _envoy()["static_resources"]["clusters"][0]
    options = cluster["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]
    keepalive = options["explicit_http_config"]["http2_protocol_options"]["connection_keepalive"]
    transport = config_module.Config().transport
    assert _seconds(keepalive["interval"]) * 1000 >= transport.min_ping_interval_ms
    idle = _seconds(options["common_http_protocol_options"]["idle_timeout"]) * 1000
    assert idle < transport.max_connection_idle_ms
    assert "grpc_health_check" in cluster["health_checks"][0]


@pytest.fixture(scope="module")
def descriptor_set(tmp_path_factory: pytest.TempPathFactory) -> descriptor_pb2.FileDescriptorSet:
    """The descriptor set Envoy's transcoder loads, built as deploy/envoy/README.md says."""
    out = tmp_path_factory.mktemp("envoy") / "sessiond.pb"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "envoy_descriptor.py"), str(out)],
        check=True,
        timeout=60,
    )
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _transcoder() -> dict[str, Any]:
    return next(
        f["typed_config"]
        for f in _http_manager()["http_filters"]
        if f["name"] == "envoy.filters.http.grpc_json_transcoder"
    )


def test_envoy_transcoder_serves_every_service_of_the_descriptor_set(
    descriptor_set: descriptor_pb2.FileDescriptorSet,
) -> None:
    services = {
        f"{f.package}.{s.name}" for f in descriptor_set.file for s in f.service if f.package
    }
    assert services == {"sessiond.v1.SessionService", "sessiond.v1.ChatService"}
    transcoder = _transcoder()
    assert sorted(transcoder["services"]) == sorted(services)
    # Routes come from the google.api.http options only (auto_mapping would add
    # POST /<service>/<method> for RPCs without one, and there are none).
    assert not transcoder.get("auto_mapping", False)
    assert transcoder["convert_grpc_status"] is True
    names = {f.name for f in descriptor_set.file}
    assert "google/protobuf/timestamp.proto" in names, "imports included"
    assert {"google/api/annotations.proto", "google/api/http.proto"} <= names
    # convert_grpc_status prints error details only for types in the descriptor set.
    assert "google/rpc/error_details.proto" in names


def test_every_rpc_has_a_valid_http_rule(descriptor_set: descriptor_pb2.FileDescriptorSet) -> None:
    pool = descriptor_pool.DescriptorPool()
    for file in descriptor_set.file:
        pool.Add(file)
    found = http_rules.routes_of_files(descriptor_set.file)
    missing = [r.rpc for r in found if not r.verb]
    assert missing == [], f"RPCs without a google.api.http option: {missing}"
    expected_rpcs = {
        f"/{service.full_name}/{method.name}"
        for module in (session_service_pb2, chat_service_pb2)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert {r.rpc for r in found} == expected_rpcs
    for route in found:
        where = f"{route.rpc}: {route.verb} {route.template}"
        request = pool.FindMessageTypeByName(route.input_type)
        assert route.verb in ("GET", "POST", "PATCH", "PUT", "DELETE"), where
        assert route.segments[0] == "v1", where
        assert all(route.segments), f"{where}: empty segment"
        assert re.fullmatch(r"[a-z][A-Za-z]*", route.custom_verb or "x"), where
        variables = route.variables
        assert len(set(variables)) == len(variables), f"{where}: a variable twice"
        for variable in variables:
            field = request.fields_by_name.get(variable)
            assert field is not None, f"{where}: {variable} is not a field of {request.name}"
            assert field.type == field.TYPE_STRING, f"{where}: {variable} is not a string"
            assert not field.is_repeated, f"{where}: {variable} is repeated"
        if route.verb in ("GET", "DELETE"):
            assert route.body == "", f"{where}: no body on {route.verb}"
        else:
            assert route.body == "*" or route.body in request.fields_by_name, where
            assert route.body not in variables, where
    # No two routes alike: not as templates, nor as Envoy's matcher sees them (a custom verb
    # is one more literal segment there).
    templates = Counter(
        (r.verb, tuple("*" if s.startswith("{") else s for s in r.segments), r.custom_verb)
        for r in found
    )
    assert [t for t, n in templates.items() if n > 1] == []
    shapes = Counter(r.envoy_shape for r in found)
    assert [s for s, n in shapes.items() if n > 1] == []
    # Nor could one request match two routes (Envoy would take the literal one): then no
    # session key, whatever its text, reaches another RPC than its route says.
    overlapping = [
        (a.rpc, a.template, b.rpc, b.template)
        for i, a in enumerate(found)
        for b in found[i + 1 :]
        if len(a.envoy_shape) == len(b.envoy_shape)
        and all(x == y or "*" in (x, y) for x, y in zip(a.envoy_shape, b.envoy_shape, strict=True))
    ]
    assert overlapping == []


@pytest.mark.parametrize(
    "doc", [ROOT / "docs" / "api.md", DEPLOY / "envoy" / "README.md"], ids=lambda p: p.name
)
def test_rest_tables_list_exactly_the_http_rules(doc: Path) -> None:
    routes = http_rules.routes_of_modules(session_service_pb2, chat_service_pb2)
    expected = {(r.method, r.verb, r.template, r.body) for r in routes}
    documented = http_rules.documented_routes(doc)
    assert documented - expected == set(), f"{doc.name} lists routes that do not exist"
    assert expected - documented == set(), f"{doc.name} misses routes"


async def test_health_probe_command_follows_drain(server: ServerHandle) -> None:
    args = argparse.Namespace(
        target=server.target,
        service="",
        timeout=3.0,
        tls_ca=None,
        tls_cert=None,
        tls_key=None,
        server_name=None,
    )
    assert await probe(args) == 0
    assert server.running is not None
    await server.running.drain(0)
    assert await probe(args) == 1, "NOT_SERVING while draining"
