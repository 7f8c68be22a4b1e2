"""Generated code is checked in and fresh; the Python client package stands alone."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "clients" / "python" / "src" / "sessiond" / "v1"


def test_regenerating_python_code_changes_nothing(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_python.py"), str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh = tmp_path / "sessiond" / "v1"
    names = sorted(p.name for p in fresh.iterdir())
    assert names == sorted(p.name for p in PACKAGE.iterdir() if p.name != "__pycache__")
    _, mismatch, errors = filecmp.cmpfiles(fresh, PACKAGE, names, shallow=False)
    assert mismatch == [], f"stale generated files (run `make generate`): {mismatch}"
    assert errors == []


def test_client_package_installs_and_imports_without_the_server(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT / "clients" / "python"),
        ],
        check=True,
        capture_output=True,
    )
    probe = (
        "import sys\n"
        "import sessiond.v1.session_service_pb2_grpc, sessiond.v1.chat_service_pb2_grpc\n"
        "assert sessiond.v1.__file__.startswith(sys.argv[1]), sessiond.v1.__file__\n"
        "server_deps = ('structlog', 'sqlite_utils', 'sessiond.core', 'sessiond.api')\n"
        "assert not [m for m in sys.modules if m.startswith(server_deps)]\n"
    )
    # -I -S: no site processing, so the editable install of the server is not on the path;
    # grpcio and protobuf come from site-packages added by hand.
    site_packages = [p for p in sys.path if p.endswith("site-packages")]
    env_path = ":".join([str(target), *site_packages])
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            f"import sys; sys.path[:0] = {env_path.split(':')!r}\n" + probe,
            str(target),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
