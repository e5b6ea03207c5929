#!/usr/bin/env python3
"""A fleet: `mlgov scan --host FOLDER` with 1,000 host profiles, against one profile, in the same run.

    python benchmarks/bench_fleet.py [--hosts 1000] [--runs 5] [--json FILE]

The profiles are what `mlgov probe -o` writes for a realistic fleet: six
distinct stacks (drivers 470 to 580, A100/H100/L4 GPUs, system, wheel and
conda cuDNN copies), each host with its own name and GPU UUIDs. The project
pins torch 2.5.1 (CUDA 12.4), onnxruntime-gpu and tensorflow, so the GPU rules
have work to do and some stacks fail. Target (issue 17): 1,000 profiles
<= 2 s; identical stacks judged once, findings name every host.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import load, measure, mlgov, verdict, write_rows  # noqa: E402

TARGET = 2.0
STACKS = [  # (driver, CUDA driver API, GPU, compute capability, cuDNN copies)
    ("470.82.01", "11.4", "NVIDIA A100-SXM4-40GB", "8.0", [("8.2.4", "system", "/usr/lib/x86_64-linux-gnu")]),
    ("535.104.05", "12.2", "NVIDIA A100-SXM4-80GB", "8.0", [("8.9.7", "system", "/usr/lib/x86_64-linux-gnu")]),
    ("550.54.15", "12.4", "NVIDIA H100 80GB HBM3", "9.0", [("9.1.0.70", "wheel", "/opt/venv/nvidia/cudnn/lib")]),
    ("550.54.15", "12.4", "NVIDIA L4", "8.9", [("9.1.0.70", "wheel", "/opt/venv/nvidia/cudnn/lib"),
                                               ("8.9.2", "conda", "/opt/conda/lib")]),
    ("570.86.15", "12.8", "NVIDIA H100 80GB HBM3", "9.0", [("9.7.1", "system", "/usr/lib/x86_64-linux-gnu")]),
    ("580.65.06", "13.0", "NVIDIA H200", "9.0", []),
]


def make_fleet(folder: Path, hosts: int, seed: int = 17) -> None:
    rng = random.Random(seed)
    folder.mkdir(parents=True)
    for number in range(hosts):
        driver, cuda, gpu, capability, cudnn = STACKS[number % len(STACKS)] if number < len(STACKS) \
            else rng.choice(STACKS)
        name = f"node-{number:04}"
        profile = {
            "format": "mlgov-host-profile", "version": 1, "host": name,
            "nvidia": {"driver_version": driver, "cuda_driver_version": cuda,
                       "gpus": [{"index": i, "name": gpu, "uuid": f"GPU-{rng.getrandbits(128):032x}",
                                 "compute_capability": capability, "memory_total_bytes": 85899345920}
                                for i in range(8)]},
            "cuda_runtimes": [{"version": f"{cuda}.0", "origin": "system", "path": "/usr/local/cuda"}],
            "cudnn": [{"version": v, "origin": o, "path": p} for v, o, p in cudnn],
        }
        (folder / f"{name}.json").write_text(json.dumps(profile, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    print(f"bench_fleet: {load()}")
    with tempfile.TemporaryDirectory(prefix="mlgov-bench-fleet-") as temp:
        root = Path(temp)
        project = root / "project"
        project.mkdir()
        (project / "requirements.txt").write_text(
            "torch==2.5.1\nonnxruntime-gpu==1.18.0\ntensorflow==2.17.0\nnumpy==1.26.4\n")
        make_fleet(root / "fleet", args.hosts)
        make_fleet(root / "one", 1)
        base = [*mlgov(), "scan", str(project), "--format", "json", "--report", str(root / "report.json")]
        one = measure("scan, 1 host profile", [*base, "--host", str(root / "one")], args.runs, ok=(0, 1))
        many = measure(f"scan, {args.hosts} host profiles (--host FOLDER)", [*base, "--host", str(root / "fleet")],
                       args.runs, ok=(0, 1))
        report = json.loads((root / "report.json").read_text())
        gpu = [f for f in report["findings"] if f["rule_id"].startswith("GPU")]
        named = {h for f in gpu for h in f.get("hosts") or [f.get("host")]}
        print(f"  {len(report['hosts'])} hosts in the report; {len(gpu)} GPU findings naming {len(named)} hosts")
        print(f"  {args.hosts} profiles: {many.median:.3f} s (1 profile: {one.median:.3f} s, "
              f"+{many.median - one.median:.3f} s)  target <= {TARGET} s  {verdict(many.median, TARGET)}")
    write_rows(args.json, [{"work": f"{args.hosts} host profiles (`--host` a folder)", "target": f"<= {TARGET} s",
                            "measured": f"{many.median:.3f} s", "cpu": f"{many.cpu_median:.3f} s",
                            "peer": f"1 profile {one.median:.3f} s", "verdict": verdict(many.median, TARGET)}])


if __name__ == "__main__":
    main()
