"""Benchmark: vulnerability matching of a 300-package environment against an OSV zip.

    python benchmarks/bench_vulns.py [--db PATH] [--advisories 25000] [--runs 3]

Prints, for the given zip (default: the shared PyPA snapshot beside the
checkout) and for a generated zip the size of OSV's real PyPI export:
  cold   whole `mlgov scan` (a fresh process, an empty cache: the zip is parsed and indexed)
  warm   the same scan again (the index comes from the cache)
  load   loading the cached index in-process; match: matching itself, in-process
Targets (issue 5): cold <= 2 s, warm <= 1.0 s, match <= 0.3 s; 25,000 advisories cold <= 10 s.

pip-audit is not timed: it has no offline database (pypa/pip-audit#698), so it
cannot run on an air-gapped runner at all; online it queries one package per
request.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DB = REPO.parent / "shared" / "vulndb" / "pypa-advisory-db-2024-10-10.osv.zip"


def make_environment(root: Path, db: Path, count: int = 300, seed: int = 5) -> Path:
    """A venv folder with `count` dist-infos: packages the database knows, at versions it lists, and others."""
    rng = random.Random(seed)
    known: dict[str, list[str]] = {}
    with zipfile.ZipFile(db) as archive:
        for name in sorted(archive.namelist()):
            data = json.loads(archive.read(name))
            for affected in data.get("affected", []):
                if affected.get("package", {}).get("ecosystem") == "PyPI" and affected.get("versions"):
                    known.setdefault(affected["package"]["name"], []).extend(affected["versions"])
    names = sorted(known)
    chosen = rng.sample(names, min(len(names), count * 2 // 3))
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (root / "pyvenv.cfg").write_text("home = /usr/bin\nversion_info = 3.11.9\n")
    packages = [(name, rng.choice(known[name])) for name in chosen]
    packages += [(f"internal-lib-{i}", f"1.{i}.0") for i in range(count - len(packages))]
    for name, version in packages:
        dist = site / f"{name.replace('-', '_')}-{version}.dist-info"
        dist.mkdir(exist_ok=True)
        (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return root


def make_big_zip(path: Path, db: Path, total: int, seed: int = 7) -> Path:
    """`total` advisories shaped like the real ones: copies of real records under new ids and package names."""
    rng = random.Random(seed)
    with zipfile.ZipFile(db) as archive:
        real = [json.loads(archive.read(n)) for n in sorted(archive.namelist())]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for i in range(total):
            data = json.loads(json.dumps(real[i % len(real)]))
            if i >= len(real):
                data["id"] = f"MLGOV-BENCH-{i}"
                data["aliases"] = [f"CVE-2099-{i}"]
                for affected in data.get("affected", []):
                    affected["package"]["name"] = f"{affected['package']['name']}-{rng.randrange(2000)}"
            out.writestr(f"{data['id']}.json", json.dumps(data))
    path.write_bytes(buffer.getvalue())
    return path


def timed_scan(project: Path, venv: Path, db: Path, cache: Path) -> float:
    env = dict(os.environ, MLGOV_CACHE_DIR=str(cache))
    command = [sys.executable, "-m", "governance", "scan", str(project), "--python", str(venv),
               "--vuln-db", str(db), "--quiet", "--today", "2026-01-01"]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=REPO)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({done.returncode}): {done.stderr}")
    return elapsed


def in_process(venv: Path, db: Path, cache: Path) -> tuple[float, float, int, int]:
    os.environ["MLGOV_CACHE_DIR"] = str(cache)
    from governance.collect import ScanOptions, collect
    from governance.vulns import in_scope
    from governance.vulns.database import load
    from governance.vulns.match import match

    inventory = collect(ScanOptions(project=venv, python=venv))
    started = time.perf_counter()
    database = load(db)
    loaded = time.perf_counter() - started
    packages = [p for p in inventory.packages if in_scope(p)]
    started = time.perf_counter()
    found = match(packages, database.lookup(p.key for p in packages), database.label)
    matched = time.perf_counter() - started
    return loaded, matched, len(packages), len(found)


def bench(label: str, db: Path, work: Path, runs: int) -> None:
    venv = make_environment(work / f"venv-{label}", db)
    project = work / f"project-{label}"
    project.mkdir()
    colds, warms = [], []
    for run in range(runs):
        cache = work / f"cache-{label}-{run}"
        colds.append(timed_scan(project, venv, db, cache))
        warms.append(timed_scan(project, venv, db, cache))
    loaded, matched, packages, found = in_process(venv, db, work / f"cache-{label}-0")
    size = db.stat().st_size / 1e6
    print(f"{label}: {db.name} ({size:.1f} MB), {packages} packages, {found} vulnerabilities")
    print(f"  cold whole scan  median {statistics.median(colds):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in colds)})")
    print(f"  warm whole scan  median {statistics.median(warms):.2f} s  (runs: {', '.join(f'{t:.2f}' for t in warms)})")
    print(f"  warm index load  {loaded * 1000:.0f} ms;  matching {matched * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=DEFAULT_DB)
    parser.add_argument("--advisories", type=int, default=25_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not args.db.is_file():
        raise SystemExit(f"{args.db}: no such database (give --db)")
    with tempfile.TemporaryDirectory(prefix="mlgov-bench-") as folder:
        work = Path(folder)
        bench("real", args.db, work, args.runs)
        big = make_big_zip(work / "generated-all.zip", args.db, args.advisories)
        bench("generated", big, work, args.runs)
    print("pip-audit: not timed; it cannot scan offline (no local database, pypa/pip-audit#698)")


if __name__ == "__main__":
    main()
