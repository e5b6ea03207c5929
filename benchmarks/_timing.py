"""Shared by the benchmark scripts: time a command as a subprocess, wall clock and CPU.

These machines are shared: the wall clock of a run includes waiting for a
core. The CPU time of the child (user + system, from os.wait4) does not, so
the scripts print both; the targets are judged on the median wall clock, as
the issue states them, and the CPU figure says how much of a miss is load.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Runs:
    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu)

    def line(self) -> str:
        return (f"{self.label:<44} median {self.median:7.3f} s   min {min(self.wall):7.3f} s   "
                f"cpu {self.cpu_median:6.3f} s   ({len(self.wall)} runs)")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment a user's shell would give: bytecode cached (a user's install has its .pyc)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(extra)
    return env


def run(command: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,),
        cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one run; SystemExit when it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    assert process.stderr is not None
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code
    if code not in ok:
        raise SystemExit(f"bench: failed (exit {code}): {' '.join(command)}\n{err.decode(errors='replace')[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(label: str, command: list[str], runs: int, warmup: int = 1, env: dict[str, str] | None = None,
            ok: tuple[int, ...] = (0,), cwd: Path | None = None, before: object = None) -> Runs:
    result = Runs(label)
    for index in range(warmup + runs):
        if callable(before):
            before()
        wall, cpu = run(command, env if env is not None else clean_env(), ok, cwd)
        if index >= warmup:
            result.wall.append(wall)
            result.cpu.append(cpu)
    print(result.line(), flush=True)
    return result


def mlgov() -> list[str]:
    beside = Path(sys.executable).parent / "mlgov"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "governance"]


def load() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    good = value >= target if higher_is_better else value <= target
    return "PASS" if good else "MISS"


def write_rows(path: Path | None, rows: list[dict[str, object]]) -> None:
    """The issue-table rows this script measured, for bench_all.py."""
    if path is not None:
        path.write_text(json.dumps({"load": load(), "rows": rows}, indent=2) + "\n", encoding="utf-8")
