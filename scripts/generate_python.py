"""Generate the Python protobuf/gRPC code and mypy stubs for sessiond.v1.

Usage: python scripts/generate_python.py [OUT_DIR]   (default: clients/python/src)
"""

from __future__ import annotations

import sys
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
# google/api/annotations.proto and http.proto (vendored; see third_party/googleapis/README.md).
GOOGLEAPIS_ROOT = ROOT / "third_party" / "googleapis"
DEFAULT_OUT = ROOT / "clients" / "python" / "src"
# protoc plugins installed beside this interpreter (the venv's bin/).
BIN = Path(sys.executable).parent


def generate(out_dir: Path) -> None:
    protos = sorted(
        str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "sessiond").rglob("*.proto")
    )
    package_dir = out_dir / "sessiond" / "v1"
    package_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{GOOGLEAPIS_ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--plugin=protoc-gen-mypy={BIN / 'protoc-gen-mypy'}",
        f"--plugin=protoc-gen-mypy_grpc={BIN / 'protoc-gen-mypy_grpc'}",
        f"--python_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        f"--mypy_out={out_dir}",
        f"--mypy_grpc_out={out_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    (package_dir / "__init__.py").write_text('"""Generated code for the sessiond.v1 API."""\n')
    (package_dir / "py.typed").write_text("")


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT)
