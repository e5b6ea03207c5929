#!/usr/bin/env python3
"""Does `mlgov sbom` scale linearly? A 500- and a 5,000-distribution environment in the same run.

    python benchmarks/bench_scale.py [--small 500] [--large 5000] [--runs 5] [--json FILE]

The environments are bench_sbom.py's synthetic ones (same generator, same
seed). Target (issue 17): the 5,000-distribution SBOM in at most 12 times the
500-distribution time (10x the packages; start-up is paid once in both).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import load, measure, mlgov, verdict, write_rows  # noqa: E402
from bench_sbom import build_environment, check_environment  # noqa: E402

TARGET_RATIO = 12.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"bench_scale: {load()}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="mlgov-bench-scale-") as temp:
        for count in (args.small, args.large):
            root = Path(temp) / str(count)
            root.mkdir()
            venv, project, _ = build_environment(root, count, 2024)
            check_environment(venv)
            out = root / "sbom.cdx.json"
            results[count] = measure(f"mlgov sbom, {count} distributions",
                                     [*mlgov(), "sbom", str(project), "--python", str(venv), "-o", str(out)],
                                     args.runs)
            components = len(json.loads(out.read_text())["components"])
            if components < count:
                raise SystemExit(f"bench: the SBOM has {components} components, expected {count}")
    small, large = results[args.small], results[args.large]
    ratio = large.median / small.median
    cpu_ratio = large.cpu_median / small.cpu_median
    print(f"  {args.large} / {args.small} distributions: {ratio:.1f}x the time (CPU {cpu_ratio:.1f}x) "
          f"for {args.large / args.small:.0f}x the packages  target <= {TARGET_RATIO:.0f}x  "
          f"{verdict(ratio, TARGET_RATIO)}")
    write_rows(args.json, [{"work": f"{args.large}-distribution env -> SBOM",
                            "target": f"<= {TARGET_RATIO:.0f}x the {args.small}-distribution time",
                            "measured": f"{large.median:.3f} s = {ratio:.1f}x {small.median:.3f} s",
                            "cpu": f"{large.cpu_median:.3f} s = {cpu_ratio:.1f}x {small.cpu_median:.3f} s",
                            "verdict": verdict(ratio, TARGET_RATIO)}])


if __name__ == "__main__":
    main()
