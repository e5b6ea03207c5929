"""Benchmark: model-file scanners on the corpus in tests/data/models, in one run.

    python -m venv /tmp/peers && /tmp/peers/bin/pip install picklescan modelscan fickling modelaudit
    python benchmarks/bench_models.py --peers /tmp/peers/bin [--json out.json]

For mlgov, picklescan, modelscan, fickling and modelaudit it prints, over the
benign corpus (made by the real libraries) and the malicious one (every trick
and published bypass, each payload harmless: it would create a file named
mlgov-marker*):
  detected     malicious files the tool flags (an issue, not a crash)
  missed       malicious files it calls clean, or skips while exiting clean
  errors       files it fails on (a failure is not a verdict: CI that ignores it passes the file)
  false alarms benign files it flags
  time         wall time of the tool's runs over both folders (start-up included)
picklescan and fickling judge one file per run; modelscan, modelaudit and
mlgov scan each folder once and report per file (JSON). Every run is in an
empty folder, checked afterwards for marker files: no tool may run a payload.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "models"
TIMEOUT = 600


def corpus_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if p.is_file() and p.name != "README.md")


def run(argv: list[str], cwd: Path) -> tuple[int, str, float]:
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
        code, out = done.returncode, done.stdout
    except subprocess.TimeoutExpired:
        code, out = -1, ""
    return code, out, time.perf_counter() - start


# A verdict per file: "flagged", "clean" or "error".
Verdicts = dict[str, str]


def per_file(argv: Callable[[Path], list[str]], flagged: set[int], clean: set[int]) -> Callable[..., tuple[Verdicts, float]]:
    def scan(folder: Path, files: list[str], cwd: Path) -> tuple[Verdicts, float]:
        verdicts, total = {}, 0.0
        for name in files:
            code, _, seconds = run(argv(folder / name), cwd)
            total += seconds
            verdicts[name] = "flagged" if code in flagged else "clean" if code in clean else "error"
        return verdicts, total
    return scan


def mlgov(folder: Path, files: list[str], cwd: Path) -> tuple[Verdicts, float]:
    code, out, seconds = run([sys.executable, "-m", "governance", "models", "list", str(folder),
                              "--format", "json"], cwd)
    verdicts = {name: "clean" for name in files}
    for model in json.loads(out or "[]"):
        bad = model["disallowed_globals"] or model["code"] or model["unparsed"]
        verdicts[model["path"]] = "flagged" if bad else "clean"
    return verdicts, seconds


def modelscan(bin_dir: Path) -> Callable[..., tuple[Verdicts, float]]:
    def scan(folder: Path, files: list[str], cwd: Path) -> tuple[Verdicts, float]:
        report = cwd / "modelscan.json"
        code, _, seconds = run([str(bin_dir / "modelscan"), "-p", str(folder), "-r", "json", "-o", str(report)], cwd)
        data = json.loads(report.read_text()) if report.exists() else {}
        verdicts = {name: "clean" for name in files}  # what it did not scan it reports as no issue
        for error in data.get("errors") or []:
            source = str(error.get("source", "")).split(":")[0]
            if source in verdicts:
                verdicts[source] = "error"
        for issue in data.get("issues") or []:
            source = str(issue.get("source", "")).split(":")[0]
            if source in verdicts:
                verdicts[source] = "flagged"
        if not data:
            verdicts = {name: "error" for name in files}
        return verdicts, seconds
    return scan


def modelaudit(bin_dir: Path) -> Callable[..., tuple[Verdicts, float]]:
    def scan(folder: Path, files: list[str], cwd: Path) -> tuple[Verdicts, float]:
        code, out, seconds = run([str(bin_dir / "modelaudit"), "scan", str(folder), "--format", "json"], cwd)
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            return {name: "error" for name in files}, seconds
        verdicts = {name: "clean" for name in files}
        root = str(folder.resolve()) + "/"
        for issue in data.get("issues") or []:
            location = str(issue.get("location") or "")
            name = location.removeprefix(root).split(":")[0].split(" ")[0]
            if name in verdicts and issue.get("severity") in ("critical", "warning", "error"):
                verdicts[name] = "flagged"
        return verdicts, seconds
    return scan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--peers", type=Path, default=None, help="bin folder of the venv holding the peers")
    parser.add_argument("--json", type=Path, default=None, help="also write the per-file verdicts here")
    args = parser.parse_args()
    bin_dir = args.peers or Path(shutil.which("picklescan") or "picklescan").parent
    tools: dict[str, Callable[..., tuple[Verdicts, float]]] = {"mlgov": mlgov}
    if (bin_dir / "picklescan").exists():
        tools["picklescan"] = per_file(lambda p: [str(bin_dir / "picklescan"), "-p", str(p)], {1}, {0})
    if (bin_dir / "modelscan").exists():
        tools["modelscan"] = modelscan(bin_dir)
    if (bin_dir / "fickling").exists():
        tools["fickling"] = per_file(lambda p: [str(bin_dir / "fickling"), "--check-safety", str(p)], {1}, {0})
    if (bin_dir / "modelaudit").exists():
        tools["modelaudit"] = modelaudit(bin_dir)
    benign, malicious = CORPUS / "benign", CORPUS / "malicious"
    benign_files, malicious_files = corpus_files(benign), corpus_files(malicious)
    print(f"corpus: {len(benign_files)} benign files, {len(malicious_files)} malicious files")
    results: dict[str, dict[str, Verdicts]] = {}
    rows = []
    for name, scan in tools.items():
        with tempfile.TemporaryDirectory() as tmp:
            cwd = Path(tmp)
            good, t1 = scan(benign, benign_files, cwd)
            bad, t2 = scan(malicious, malicious_files, cwd)
            markers = [p.name for p in cwd.rglob("mlgov-marker*")]
        results[name] = {"benign": good, "malicious": bad}
        detected = sum(v == "flagged" for v in bad.values())
        errors = sum(v == "error" for v in bad.values())
        missed = sum(v == "clean" for v in bad.values())
        alarms = sum(v == "flagged" for v in good.values())
        benign_errors = sum(v == "error" for v in good.values())
        rows.append((name, detected, missed, errors, alarms, benign_errors, t1 + t2, markers))
        print(f"{name:11} detected {detected:3}/{len(malicious_files)}  missed {missed:3}  errors {errors:3}  "
              f"false alarms {alarms:3}/{len(benign_files)} (errors on benign {benign_errors:2})  "
              f"time {t1 + t2:7.1f} s  payload ran: {'YES ' + ','.join(markers) if markers else 'no'}",
              flush=True)
    print("\n| tool | detected | missed (called clean) | errors | false alarms | errors on benign | time |")
    print("|---|---|---|---|---|---|---|")
    for name, detected, missed, errors, alarms, benign_errors, seconds, _ in rows:
        print(f"| {name} | {detected}/{len(malicious_files)} | {missed} | {errors} | {alarms}/{len(benign_files)} "
              f"| {benign_errors} | {seconds:.1f} s |")
    print("\nmissed by each tool:")
    for name, verdict in results.items():
        missed_files = [f for f, v in verdict["malicious"].items() if v != "flagged"]
        print(f"  {name}: {', '.join(missed_files) or '-'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
