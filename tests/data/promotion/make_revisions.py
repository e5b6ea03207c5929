"""Make two real lock revisions of one project with uv, for the `mlgov diff` tests.

    python tests/data/promotion/make_revisions.py [--uv PATH]

Revision A is locked, the project is changed as a team would change it, and
revision B is locked again by uv itself. Between the two:
  numpy 2.1.3 -> 2.0.2 (a downgrade), idna 3.7 -> 3.10 (an upgrade),
  six removed, packaging added, and `mlgov-demo-weights 1.0.0` rebuilt with
  other contents and served from another index folder: the same version
  with a different hash and a different source (a republished artefact).
The two wheels of mlgov-demo-weights are built here and served from a
PEP 503 index on 127.0.0.1 (a team's internal index, with hashes, as uv
records them); the public packages come from the package index.
Needs uv (pip install uv). Writes rev-a/ and rev-b/ beside this script.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = "mlgov_demo_weights"


def _wheel(folder: Path, payload: str) -> None:
    """A minimal, valid pure-Python wheel; `payload` changes its bytes and so its hash."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{DEMO}-1.0.0-py3-none-any.whl"
    info = f"{DEMO}-1.0.0.dist-info"
    files = {
        f"{DEMO}/__init__.py": f"WEIGHTS = {payload!r}\n",
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: mlgov-demo-weights\nVersion: 1.0.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: make_revisions\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    import base64
    import hashlib

    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(folder / name, "w") as archive:
        for path, text in files.items():
            info_entry = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info_entry, text)


PYPROJECT = """[project]
name = "promotion-demo"
version = "{version}"
requires-python = ">=3.11"
dependencies = [
{deps}
]

[[tool.uv.index]]
name = "internal"
url = "{links}"
explicit = true

[tool.uv.sources]
mlgov-demo-weights = {{ index = "internal" }}
"""


PORT = 18787  # fixed, so that the index URL recorded in the locks is the same every time


def _index(root: Path, name: str, payload: str) -> None:
    """root/NAME/simple/mlgov-demo-weights/ with the wheel and its sha256 in the link."""
    import hashlib

    package = root / name / "simple" / "mlgov-demo-weights"
    _wheel(package, payload)
    wheel = next(package.glob("*.whl"))
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (package / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>\n')
    (root / name / "simple" / "index.html").write_text(
        '<!DOCTYPE html><html><body><a href="mlgov-demo-weights/">mlgov-demo-weights</a></body></html>\n')


def _lock(uv: str, folder: Path, version: str, deps: list[str], links: str) -> None:
    (folder / "pyproject.toml").write_text(
        PYPROJECT.format(version=version, deps="\n".join(f'    "{d}",' for d in deps), links=links))
    subprocess.run([uv, "lock", "--python", "3.11", "--no-cache"], cwd=folder, check=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uv", default=shutil.which("uv") or "uv")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        _index(work / "www", "a", "release candidate 1")
        _index(work / "www", "b", "republished")
        server = subprocess.Popen([sys.executable, "-m", "http.server", str(PORT), "--bind", "127.0.0.1",
                                   "--directory", str(work / "www")], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            _revisions(args.uv, work)
        finally:
            server.terminate()
            server.wait()
    print("wrote", HERE / "rev-a", "and", HERE / "rev-b")
    return 0


def _revisions(uv: str, work: Path) -> None:
    import time

    time.sleep(1.0)  # the index server's start
    base = f"http://127.0.0.1:{PORT}"
    project = work / "project"
    project.mkdir()
    # Revision A: what runs in production.
    _lock(uv, project, "1.0.0",
          ["numpy==2.1.3", "idna==3.7", "six==1.16.0", "mlgov-demo-weights==1.0.0"], f"{base}/a/simple/")
    shutil.copytree(project, HERE / "rev-a", dirs_exist_ok=True)
    # Revision B: the candidate, re-locked by uv after the change.
    _lock(uv, project, "1.1.0",
          ["numpy==2.0.2", "idna==3.10", "packaging==24.2", "mlgov-demo-weights==1.0.0"], f"{base}/b/simple/")
    shutil.copytree(project, HERE / "rev-b", dirs_exist_ok=True)


if __name__ == "__main__":
    sys.exit(main())
