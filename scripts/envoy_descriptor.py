"""Write the descriptor set (with imports) that Envoy's gRPC-JSON transcoder needs: the
sessiond.v1 services with their google.api.http options, plus google/rpc/error_details.proto
so that `convert_grpc_status` can print the ErrorInfo and BadRequest details of errors.

Usage: python scripts/envoy_descriptor.py OUT_FILE   (see deploy/envoy/README.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
# google/api/annotations.proto, http.proto and google/rpc/error_details.proto (vendored; see
# third_party/googleapis/README.md).
GOOGLEAPIS_ROOT = ROOT / "third_party" / "googleapis"


def build(out_file: Path) -> None:
    protos = sorted(
        str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "sessiond").rglob("*.proto")
    )
    protos.append("google/rpc/error_details.proto")
    out_file.parent.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{GOOGLEAPIS_ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        "--include_imports",
        "--include_source_info",
        f"--descriptor_set_out={out_file}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    build(Path(sys.argv[1]))
