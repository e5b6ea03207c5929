"""How long a large conda-lock.yml takes to load, aliases refused.

    python benchmarks/bench_yaml.py [--runs N] [FILE]

Default FILE: ../shared/real-projects/pangeo-docker-images/ml-notebook/conda-lock.yml (880 packages).
Times, in one process and interleaved (median of N after a warm-up): mlgov's load_yaml (libyaml
event pre-pass refusing aliases, then the C safe loader), the pure-Python alias-refusing loader it
falls back to without libyaml, and the peer, PyYAML's own C safe loader with no alias check. Says
whether all three give the same data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DEFAULT = REPO.parent / "shared" / "real-projects" / "pangeo-docker-images" / "ml-notebook" / "conda-lock.yml"


def main() -> None:
    import yaml

    from governance.collect.lockfiles import _common as c

    parser = argparse.ArgumentParser()
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    text = args.file.read_text()
    ways = {
        "mlgov load_yaml": lambda: c.load_yaml(text, args.file.name),
        "pure-Python loader (fallback)": lambda: yaml.load(text, Loader=c._no_aliases_loader()),  # noqa: S506
        "peer: yaml CSafeLoader": lambda: yaml.load(text, Loader=yaml.CSafeLoader),  # noqa: S506
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    data = {name: way() for name, way in ways.items()}  # warm-up, and the data compared
    for _ in range(args.runs):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - start)
    packages = len(data["mlgov load_yaml"].get("package", []))
    print(f"{args.file.name}: {len(text) // 1024} KB, {packages} packages; libyaml: {yaml.__with_libyaml__}")
    peer = statistics.median(times["peer: yaml CSafeLoader"])
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"  {name:32} {median:6.3f} s   x{median / peer:4.2f} of the peer")
    same = data["mlgov load_yaml"] == data["pure-Python loader (fallback)"] == data["peer: yaml CSafeLoader"]
    print(f"  same data: {same}")


if __name__ == "__main__":
    main()
