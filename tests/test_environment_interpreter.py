"""`--python` with an interpreter path: a real venv's interpreter reads that venv.

The venv's site-packages come from its files (pyvenv.cfg), the base's are added
only with `include-system-site-packages = true`, and nothing of the scanned
environment runs: no .pth line, no sitecustomize, no site hook.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from governance.collect.environment import locate, read_environment
from governance.errors import InputError
from tests.conftest import REPO
from tests.fakevenv import Dist, make_venv


def real_venv(root: Path, system_site_packages: bool = False) -> tuple[Path, Path]:
    """A venv made by the standard library (no pip: fast and offline), with two
    distributions installed into it, and a .pth line and a sitecustomize that
    would leave a marker if anything of the environment ran."""
    venv.create(root, with_pip=False, system_site_packages=system_site_packages, symlinks=True)
    site = next(root.glob("lib/python3*/site-packages"))
    marker = root.parent / "ran"
    make_venv(root / "_layout", [Dist("alpha-pkg", "1.2.3"), Dist("beta", "0.1")],
              python_version=".".join(map(str, sys.version_info[:3])))
    for entry in next((root / "_layout").glob("lib/python3*/site-packages")).iterdir():
        entry.rename(site / entry.name)
    (site / "evil.pth").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).write_text('pth')\n")
    (site / "sitecustomize.py").write_text(f"import pathlib; pathlib.Path({str(marker)!r}).write_text('sc')\n")
    return root / "bin" / "python", marker


def base_site_packages() -> set[Path]:
    import site

    return {Path(p).resolve() for p in site.getsitepackages([sys.base_prefix]) if Path(p).is_dir()}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_a_venv_interpreter_reads_its_venv_not_the_base(tmp_path: Path) -> None:
    python, marker = real_venv(tmp_path / "venv")
    env = locate(python)
    assert [p.resolve() for p in env.site_packages] == [next((tmp_path / "venv").glob("lib/python3*/site-packages")).resolve()]
    names = {p.key for p in read_environment(env)}
    assert names == {"alpha-pkg", "beta"}
    assert env.markers["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert not marker.exists(), "a .pth line or sitecustomize of the scanned environment ran"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_include_system_site_packages_adds_the_base(tmp_path: Path) -> None:
    python, marker = real_venv(tmp_path / "venv", system_site_packages=True)
    env = locate(python)
    found = [p.resolve() for p in env.site_packages]
    assert found[0] == next((tmp_path / "venv").glob("lib/python3*/site-packages")).resolve()
    assert base_site_packages() & set(found[1:]), "the base interpreter's site-packages are read too"
    assert not marker.exists()


def test_a_plain_interpreter_gives_its_own_paths() -> None:
    env = locate(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")
    assert base_site_packages() <= {p.resolve() for p in env.site_packages}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX venv layout")
def test_cli_scans_the_venv_of_an_interpreter_path(tmp_path: Path) -> None:
    python, marker = real_venv(tmp_path / "venv")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("beta==0.1\n")
    done = subprocess.run([sys.executable, "-m", "governance", "sbom", str(project), "--python", str(python)],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    names = {c["name"] for c in json.loads(done.stdout)["components"]}
    assert {"alpha-pkg", "beta"} <= names
    assert not marker.exists()


def test_a_named_interpreter_runs_isolated_with_an_empty_environment(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "seen.json"
    fake = tmp_path / "bin" / "python"
    fake.parent.mkdir()
    fake.write_text("#!" + sys.executable + "\n"
                    "import json, os, sys\n"
                    f"open({str(seen)!r}, 'w').write(json.dumps({{'argv': sys.argv[1:3], 'env': dict(os.environ)}}))\n"
                    "print(json.dumps({'paths': [], 'markers': {'python_version': '3.11'}}))\n")
    fake.chmod(0o755)
    monkeypatch.setenv("MLGOV_SECRET_TOKEN", "CANARY-77")
    env = locate(fake)
    assert env.markers["python_version"] == "3.11"
    recorded = json.loads(seen.read_text())
    assert recorded["argv"] == ["-I", "-S"]
    assert "MLGOV_SECRET_TOKEN" not in recorded["env"] and "PATH" not in recorded["env"]


def test_an_interpreter_that_does_not_answer_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance.collect import environment

    monkeypatch.setattr(environment, "PROBE_TIMEOUT_S", 1)
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    with pytest.raises(InputError, match="no answer within 1 s"):
        locate(fake)


def test_an_interpreter_inside_the_project_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    fake = tmp_path / "proj" / "tools" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\ntouch {marker}\n")
    fake.chmod(0o755)
    with pytest.raises(InputError, match="inside the scanned project"):
        locate(fake, tmp_path / "proj")
    # a link from inside the project to an interpreter elsewhere is still inside
    outside = tmp_path / "elsewhere" / "python"
    outside.parent.mkdir()
    os.symlink(fake, outside)
    with pytest.raises(InputError, match="inside the scanned project"):
        locate(outside, tmp_path / "proj")
    assert not marker.exists()
