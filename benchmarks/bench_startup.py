#!/usr/bin/env python3
"""Start-up: `mlgov --version` and `mlgov --help` against the bare interpreter, in the same run.

    python benchmarks/bench_startup.py [--runs 21] [--json FILE]

Each is a fresh process, timed from start to exit. The target (issue 17) is
<= 0.08 s for both. `python -c pass` with the same interpreter is printed as
the floor nothing can go under. tests/test_startup.py guards what the two
commands import; this script measures what that costs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import load, measure, mlgov, verdict, write_rows  # noqa: E402

TARGET = 0.08


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"bench_startup: {load()}")
    command = mlgov()
    python = measure("python -c pass (the floor)", [sys.executable, "-c", "pass"], args.runs)
    version = measure("mlgov --version", [*command, "--version"], args.runs)
    helped = measure("mlgov --help", [*command, "--help"], args.runs)
    rows = []
    for label, runs in (("`mlgov --version`", version), ("`mlgov --help`", helped)):
        print(f"  {label:<20} {runs.median:.3f} s  (floor {python.median:.3f} s, +{runs.median - python.median:.3f} s)"
              f"  target <= {TARGET} s  {verdict(runs.median, TARGET)}")
        rows.append({"work": label, "target": f"<= {TARGET} s", "measured": f"{runs.median:.3f} s",
                     "cpu": f"{runs.cpu_median:.3f} s", "floor": f"{python.median:.3f} s",
                     "verdict": verdict(runs.median, TARGET)})
    write_rows(args.json, rows)


if __name__ == "__main__":
    main()
