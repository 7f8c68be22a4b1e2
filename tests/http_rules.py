"""The REST routes of the sessiond.v1 RPCs: their google.api.http options, read from file
descriptors (the Envoy descriptor set or the generated Python modules), and the REST tables
of the docs that must list exactly these routes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

HTTP_VERBS = ("get", "put", "post", "delete", "patch")
# A table row of docs/api.md or deploy/envoy/README.md: | `Rpc` | `VERB /path` | body | ... |
DOC_ROW = re.compile(r"^\| `(\w+)` \| `([A-Z]+) (/\S*)` \| (`\*`|—) \|", re.M)


@dataclass(frozen=True)
class Route:
    service: str  # full name, e.g. sessiond.v1.SessionService
    method: str  # e.g. GetSession
    input_type: str  # full name of the request message
    server_streaming: bool
    verb: str  # GET, POST, ...
    template: str  # e.g. /v1/sessions/{key}:reset
    body: str  # "", "*" or a request field

    @property
    def rpc(self) -> str:
        """The gRPC path: /sessiond.v1.SessionService/GetSession."""
        return f"/{self.service}/{self.method}"

    @property
    def segments(self) -> list[str]:
        """The path segments (a variable stays `{name}` or `{name=...}`), without the verb."""
        return split_template(self.template)[0]

    @property
    def custom_verb(self) -> str:
        """The `:verb` suffix of the template, without the colon; "" when there is none."""
        return split_template(self.template)[1]

    @property
    def variables(self) -> list[str]:
        """Field paths bound by the path, in order."""
        return [m[1] for m in re.finditer(r"\{([^}=]+)(?:=[^}]*)?\}", self.template)]

    @property
    def envoy_shape(self) -> tuple[str, ...]:
        """How Envoy's path matcher sees the route: the verb, the segments with every
        variable as `*`, and a custom verb as one more literal segment (so `/v1/sessions:x`
        and `/v1/sessions/x` are the same route to it)."""
        parts = ["*" if s.startswith("{") else s for s in self.segments]
        if self.custom_verb:
            parts.append(self.custom_verb)
        return (self.verb, *parts)


def split_template(template: str) -> tuple[list[str], str]:
    """`/v1/a/{b=c/*}:verb` → (["v1", "a", "{b=c/*}"], "verb")."""
    assert template.startswith("/"), template
    segments: list[str] = []
    current = ""
    depth = 0
    verb = ""
    for i, char in enumerate(template[1:], start=1):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        if depth == 0 and char == "/":
            segments.append(current)
            current = ""
        elif depth == 0 and char == ":":
            verb = template[i + 1 :]
            break
        else:
            current += char
    segments.append(current)
    return segments, verb


def _bindings(rule: http_pb2.HttpRule) -> Iterable[http_pb2.HttpRule]:
    yield rule
    for extra in rule.additional_bindings:
        yield from _bindings(extra)


def _verb_and_template(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    assert kind in HTTP_VERBS, f"no HTTP pattern in {rule}"
    return kind.upper(), str(getattr(rule, kind))


def routes_of_files(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> list[Route]:
    """Every route of every service of the files in package sessiond.v1 (also RPCs with
    none: they come back as a Route with verb "" so a caller can complain)."""
    found: list[Route] = []
    for file in files:
        if file.package != "sessiond.v1":
            continue
        for service in file.service:
            for method in service.method:
                base = {
                    "service": f"{file.package}.{service.name}",
                    "method": method.name,
                    "input_type": method.input_type.lstrip("."),
                    "server_streaming": method.server_streaming,
                }
                if not method.options.HasExtension(annotations_pb2.http):
                    found.append(Route(**base, verb="", template="", body=""))
                    continue
                for rule in _bindings(method.options.Extensions[annotations_pb2.http]):
                    verb, template = _verb_and_template(rule)
                    found.append(Route(**base, verb=verb, template=template, body=rule.body))
    return found


def routes_of_modules(*modules: ModuleType) -> list[Route]:
    """The routes of generated `*_pb2` modules."""
    files = []
    for module in modules:
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        files.append(proto)
    return routes_of_files(files)


def documented_routes(path: Path) -> set[tuple[str, str, str, str]]:
    """(method, VERB, template, body) of every REST table row of a Markdown file."""
    return {
        (m[1], m[2], m[3], "*" if m[4] == "`*`" else "") for m in DOC_ROW.finditer(path.read_text())
    }
