#!/usr/bin/env python3
"""Every row of issue 17's table in one run, peers included, then the table.

    python benchmarks/bench_all.py [--quick] [--no-peers] [--markdown FILE]

Runs, one after the other, each script's own measurement (their output is
shown as it goes) and collects the row each writes with --json:

    bench_startup.py    mlgov --version, mlgov --help            (floor: python -c pass)
    bench_sbom.py       300-distribution env -> validated 1.6 JSON (peers: cyclonedx-py, cdxgen)
    bench_lockfiles.py  ~68-package uv.lock -> scan with SBOM
    bench_vulns.py      25,000-advisory OSV zip, cold / warm      (and the real 2,661-advisory zip)
    bench_scale.py      5,000 vs 500 distributions -> SBOM
    bench_fleet.py      1,000 host profiles                       (against 1 profile)

Figures are medians of whole commands (fresh processes). The machine's load
average is printed before and after: on a shared machine, wall-clock figures
include waiting for a core, and the CPU column says how much. --markdown FILE
writes the table with when and where it was taken; when FILE is a page with
the figures markers (docs/benchmarks.md), only the block between them is
replaced:

    python benchmarks/bench_all.py --markdown docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import clean_env, load  # noqa: E402

HERE = Path(__file__).resolve().parent


def steps(quick: bool, peers: bool) -> list[list[str]]:
    few = ["--runs", "3"] if quick else []
    return [
        ["bench_startup.py", *(["--runs", "11"] if quick else [])],
        ["bench_sbom.py", *(["--runs", "5", "--peer-runs", "1"] if quick else []),
         *([] if peers else ["--no-peer", "--no-cdxgen"])],
        ["bench_lockfiles.py", "--no-peer", *few],
        ["bench_vulns.py", *(["--runs", "1"] if quick else [])],
        ["bench_scale.py", *few],
        ["bench_fleet.py", *few],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs (a check that everything works)")
    parser.add_argument("--no-peers", action="store_true", help="skip cyclonedx-py and cdxgen (offline)")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the table as Markdown here")
    args = parser.parse_args()
    before = load()
    print(f"bench_all: {before}", flush=True)
    rows: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="mlgov-bench-all-") as temp:
        for number, step in enumerate(steps(args.quick, not args.no_peers)):
            out = Path(temp) / f"{number}.json"
            print(f"\n=== {' '.join(step)}", flush=True)
            done = subprocess.run([sys.executable, str(HERE / step[0]), *step[1:], "--json", str(out)],
                                  env=clean_env(), check=False)
            if done.returncode != 0 or not out.exists():
                rows.append({"work": step[0], "target": "-", "measured": f"failed (exit {done.returncode})",
                             "cpu": "-", "peer": "-", "verdict": "FAIL"})
                continue
            rows.extend(json.loads(out.read_text())["rows"])
    after = load()
    header = ("work", "target", "measured (median)", "CPU", "peer / reference", "verdict")
    table = [header, *[(r["work"], r["target"], r["measured"], r.get("cpu", "-"), r.get("peer", "-") or "-",
                        r["verdict"]) for r in rows]]
    print(f"\nissue 17, every row ({before} before, {after} after)")
    for line in table:
        print("  " + " | ".join(line))
    if args.markdown is not None:
        write_markdown(args.markdown, figures_block(header, table[1:], before, after))


START, END = "<!-- figures: bench_all.py --markdown -->", "<!-- end figures -->"


def figures_block(header: tuple[str, ...], rows: list[tuple[str, ...]], before: str, after: str) -> str:
    """The figures as docs/benchmarks.md shows them: when and where they were taken, then the table."""
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    where = f"Python {platform.python_version()} on {platform.system()} {platform.machine()}"
    lines = [f"Taken on {when} with `python benchmarks/bench_all.py` ({where}); {before} before the run, "
             f"{after.removeprefix('load average ')} after it.", "",
             "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_markdown(path: Path, block: str) -> None:
    """Replace the figures between the markers of a page that has them (docs/benchmarks.md), else
    write the block alone."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in text and END in text.split(START, 1)[1]:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        path.write_text(f"{head}{START}\n{block}{END}{tail}", encoding="utf-8")
    else:
        path.write_text(block, encoding="utf-8")


if __name__ == "__main__":
    main()
