"""Rebuild this fixture with the real uv: wheels, local indexes, locks and uv's own exports.

    python tests/data/lockfiles/uv-variants/regenerate.py [path/to/uv]

The projects are locked in a copy under /fixtures/uv-variants so that the
absolute index paths uv writes into `[package.metadata]` name no machine's
folders; the locks and exports are copied back. For each project and choice of
extras/groups in SELECTIONS, `uv export --frozen --format pylock.toml` records
what `uv sync` installs (exports/<project>[.<choice>].pylock.toml, markers per
platform); tests/test_lockfiles_traps.py compares mlgov with them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = Path("/fixtures/uv-variants")
PROJECTS = ("platform-indexes", "conflict-extras", "conflict-groups", "stale", "editable-project")
# project -> {choice name: uv flags}
SELECTIONS = {
    "platform-indexes": {"default": []},
    "conflict-extras": {"default": [], "cpu": ["--extra", "cpu"], "cu128": ["--extra", "cu128"]},
    "conflict-groups": {"default": [], "no-dev": ["--no-dev"],
                        "cpu": ["--no-default-groups", "--group", "cpu"]},
    "stale": {"default": []},
    "editable-project": {"default": []},
}
# The stale lock: locked from LOCKED_AS, then the manifest moved on without a re-lock.
STALE_LOCKED_AS = {"torchlike==2.10.0": "torchlike==2.9.1"}


def simple_index(folder: Path) -> None:
    """A PEP 503 simple index (one page per project) over the flat folder of wheels."""
    names: dict[str, list[Path]] = {}
    for wheel in sorted(folder.glob("*.whl")):
        names.setdefault(wheel.name.split("-")[0].replace("_", "-"), []).append(wheel)
    for name, wheels in names.items():
        page = folder / name
        page.mkdir(exist_ok=True)
        links = "".join(f'<a href="../{w.name}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}">{w.name}</a>\n'
                        for w in wheels)
        (page / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")


def main(uv: str) -> None:
    sys.path.insert(0, str(HERE))
    import make_wheels

    make_wheels.main()
    for index in (HERE / "indexes").iterdir():
        simple_index(index)
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(HERE, WORK, ignore=shutil.ignore_patterns("exports", "__pycache__"))
    env = {**os.environ, "UV_OFFLINE": "1", "HOME": str(WORK / ".home"), "XDG_CONFIG_HOME": str(WORK / ".home")}
    (HERE / "exports").mkdir(exist_ok=True)
    for project in PROJECTS:
        folder = WORK / project
        (folder / "uv.lock").unlink(missing_ok=True)
        manifest = (folder / "pyproject.toml").read_text()
        if project == "stale":
            older = manifest
            for now, then in STALE_LOCKED_AS.items():
                older = older.replace(now, then)
            older = older.replace('"typinglike==4", "coloramalike"', '"typinglike==4"')
            (folder / "pyproject.toml").write_text(older)
        subprocess.run([uv, "lock", "--python", "3.11"], cwd=folder, env=env, check=True)
        (folder / "pyproject.toml").write_text(manifest)
        if project == "stale":
            refused = subprocess.run([uv, "export", "--locked", "--python", "3.11"], cwd=folder, env=env,
                                     capture_output=True, text=True)
            assert refused.returncode != 0, "uv accepted the stale lock"
            # uv's refusal, without the lines that change per run (interpreter path, timings)
            said = [line for line in refused.stderr.splitlines() if line.startswith(("error", "hint"))]
            (HERE / "exports" / "stale.locked-refused.txt").write_text("\n".join(said) + "\n")
        shutil.copy(folder / "uv.lock", HERE / project / "uv.lock")
        if project == "editable-project":
            # The project's own PEP 751 export, the project included (editable "."), kept beside it.
            subprocess.run([uv, "export", "--frozen", "--format", "pylock.toml", "--python", "3.11",
                            "-o", "pylock.toml"], cwd=folder, env=env, check=True)
            text = (folder / "pylock.toml").read_text()
            (HERE / project / "pylock.toml").write_text(text)
            (folder / "pylock.toml").unlink()
        for choice, flags in SELECTIONS[project].items():
            subprocess.run([uv, "export", "--frozen", "--format", "pylock.toml", "--no-emit-project",
                            "--python", "3.11", "-o", "pylock.toml", *flags], cwd=folder, env=env, check=True)
            text = (folder / "pylock.toml").read_text()
            kept = "\n".join(line for line in text.splitlines() if not line.startswith("#")) + "\n"
            (HERE / "exports" / f"{project}.{choice}.pylock.toml").write_text(kept)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "uv")
