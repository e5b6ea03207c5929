"""How long one ~65-package lockfile takes to become a validated SBOM.

    python benchmarks/bench_lockfiles.py [--no-peer] [--runs N]

Times `mlgov sbom` on the uv.lock, poetry.lock and Pipfile.lock fixtures
(tests/data/lockfiles/), in-process (collect + build + validate, after one
warm-up) and as a fresh `python -m governance` subprocess (start-up
included). The target is 0.3 s. Then it times the issue-17 row: `mlgov scan`
of the uv project with `--sbom`, as a command (<= 0.25 s). The peer, cyclonedx-py, reads poetry.lock and
Pipfile.lock (not uv.lock): it is installed into a throwaway venv in the
system's temporary folder, outside the repository, when this script runs;
--no-peer, or no network, skips it with a message.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import load, measure, mlgov, verdict, write_rows  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "lockfiles"
TARGET = ["--target-platform", "linux-x86_64", "--target-python", "3.11"]
CASES = [("uv", "uv.lock", None), ("poetry", "poetry.lock", "poetry"), ("pipenv", "Pipfile.lock", "pipenv")]


def in_process(folder: Path, runs: int) -> tuple[float, int]:
    sys.path.insert(0, str(REPO))
    from governance.collect import ScanOptions, collect
    from governance.collect.target import resolve
    from governance.pipeline import SbomRequest, make_sbom

    markers, target = resolve("linux-x86_64", "3.11")
    times = []
    count = 0
    for _ in range(runs + 1):
        start = time.perf_counter()
        inventory = collect(ScanOptions(project=folder, markers=markers, target=target, include_environment=False))
        make_sbom(inventory, SbomRequest(reproducible=True))
        times.append(time.perf_counter() - start)
        count = len(inventory.packages)
    return statistics.median(times[1:]), count


def subprocess_time(command: list[str], runs: int) -> float | str:
    """Median seconds, or the failure's last line."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            return f"failed ({lines[-1][:60] if lines else result.returncode})"
    return statistics.median(times)


def peer(workdir: Path) -> Path | None:
    """cyclonedx-py in a throwaway venv, or None with a message."""
    env_dir = workdir / "cdx-venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "cyclonedx-bom"], capture_output=True,
                            text=True, check=False)
    if result.returncode != 0:
        print(f"peer skipped: could not install cyclonedx-bom ({result.stderr.strip().splitlines()[-1:]})")
        return None
    return env_dir / "bin" / "cyclonedx-py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="the issue-17 row as JSON")
    args = parser.parse_args()
    print(f"bench_lockfiles: {load()}")

    with tempfile.TemporaryDirectory(prefix="mlgov-bench-") as temp:
        cdx = None if args.no_peer else peer(Path(temp))
        if args.no_peer:
            print("peer skipped (--no-peer)")
        print(f"{'lockfile':<14} {'components':>10} {'in-process':>11} {'subprocess':>11} {'cyclonedx-py':>13}")
        for tool, lock, peer_command in CASES:
            folder = DATA / tool
            seconds, count = in_process(folder, args.runs)
            out = Path(temp) / f"{tool}.cdx.json"
            command = [sys.executable, "-m", "governance", "sbom", str(folder), *TARGET, "-o", str(out)]
            sub = subprocess_time(command, args.runs)
            if not isinstance(sub, float):
                raise SystemExit(f"mlgov sbom {folder}: {sub}")
            peer_text = "cannot read" if peer_command is None else "skipped"
            if cdx is not None and peer_command is not None:
                peer_out = Path(temp) / f"{tool}.peer.json"
                peer_seconds = subprocess_time([str(cdx), peer_command, str(folder), "-o", str(peer_out)], args.runs)
                peer_text = f"{peer_seconds:.3f} s" if isinstance(peer_seconds, float) else peer_seconds
            ok = "ok" if seconds <= 0.3 else "OVER 0.3 s"
            print(f"{lock:<14} {count:>10} {seconds:>9.3f} s {sub:>9.3f} s {peer_text:>13}  {ok}")
        print()
        folder = DATA / "uv"
        scan = measure(f"mlgov scan uv/ --sbom ({count_uv(folder)} packages)",
                       [*mlgov(), "scan", str(folder), "--sbom", str(Path(temp) / "scan.cdx.json"), "--quiet",
                        *TARGET], max(args.runs, 7), ok=(0, 1))
        print(f"  uv.lock -> scan with SBOM: {scan.median:.3f} s  target <= 0.25 s  {verdict(scan.median, 0.25)}")
        write_rows(args.json, [{"work": f"~{count_uv(folder)}-package uv.lock -> scan with SBOM",
                                "target": "<= 0.25 s", "measured": f"{scan.median:.3f} s",
                                "cpu": f"{scan.cpu_median:.3f} s", "peer": "cyclonedx-py cannot read uv.lock",
                                "verdict": verdict(scan.median, 0.25)}])


def count_uv(folder: Path) -> int:
    return (folder / "uv.lock").read_text(encoding="utf-8").count("[[package]]")


if __name__ == "__main__":
    main()
