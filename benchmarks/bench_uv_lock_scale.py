"""Does reading a uv.lock stay linear? SBOM and scan of synthetic locks of 250 to 2,000 packages.

    python benchmarks/bench_uv_lock_scale.py [--runs N] [--sizes 250,500,1000,2000]

Each lock has the shapes of a real ML uv.lock (tests/test_real_projects.py has
the real ones, the largest 1.8 MB): every package depends on up to three
earlier ones, a tenth of the edges carry platform markers, and every
twentieth package has three entries of one name (`X`, `X+cpu`, `X+cu128`
from three indexes) behind conflicting extras, so the walk evaluates conflict
markers and picks entries by (name, version, source). The project depends on
every package, so the whole graph is reached (a 1,000-package lock gives 1,000 components).

For each size it prints the in-process time of `mlgov sbom` (collect + build +
validate) and of `mlgov scan` (the same plus the production policy), the time
per package, and the ratio to the previous size: linear work doubles when the
size doubles (ratio ~2.0). The peer in the same run is tomllib alone (the
floor: parsing the file), so the figures say how much above parsing mlgov is.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
INDEXES = {"": "https://pypi.org/simple", "+cpu": "https://download.pytorch.org/whl/cpu",
           "+cu128": "https://download.pytorch.org/whl/cu128"}
MARKERS = ["sys_platform == 'linux'", "sys_platform == 'darwin'", "platform_machine == 'x86_64'",
           "python_full_version < '3.12'", "sys_platform == 'win32'"]


def make_lock(size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    out = ['version = 1', 'revision = 3', 'requires-python = ">=3.11"',
           'conflicts = [[', '    { package = "bench", extra = "cpu" },', '    { package = "bench", extra = "cu128" },',
           ']]', '']
    variants: set[int] = {i for i in range(size) if i % 20 == 19}
    names = [f"pkg-{i:05d}" for i in range(size)]

    def edge(j: int) -> list[str]:
        marker = f', marker = "{rng.choice(MARKERS)}"' if rng.random() < 0.1 else ""
        if j not in variants:
            return [f'    {{ name = "{names[j]}"{marker} }},']
        cpu, cuda = "extra == 'extra-5-bench-cpu'", "extra == 'extra-5-bench-cu128'"
        plain = "extra != 'extra-5-bench-cpu' and extra != 'extra-5-bench-cu128'"
        return [f'    {{ name = "{names[j]}", version = "1.0.0{v}", source = {{ registry = "{INDEXES[v]}" }}, '
                f'marker = "{m}" }},' for v, m in (("", plain), ("+cpu", cpu), ("+cu128", cuda))]

    for i, name in enumerate(names):
        for variant in (("", "+cpu", "+cu128") if i in variants else ("",)):
            out += ['[[package]]', f'name = "{name}"', f'version = "1.0.0{variant}"',
                    f'source = {{ registry = "{INDEXES[variant]}" }}']
            deps = sorted(rng.sample(range(i), min(i, rng.randint(0, 3))))
            if deps:
                out.append("dependencies = [")
                for j in deps:
                    out += edge(j)
                out.append("]")
            digest = f"{rng.getrandbits(256):064x}"
            out += [f'sdist = {{ url = "https://files.example/{name}-1.0.0.tar.gz", hash = "sha256:{digest}", size = 1000 }}',
                    'wheels = [']
            for tag in ("manylinux_2_28_x86_64", "macosx_11_0_arm64", "win_amd64"):
                digest = f"{rng.getrandbits(256):064x}"
                out.append(f'    {{ url = "https://files.example/{name}-1.0.0-cp311-cp311-{tag}.whl", '
                           f'hash = "sha256:{digest}", size = 1000 }},')
            out += [']', '']
    out += ['[[package]]', 'name = "bench"', 'version = "0.1.0"', 'source = { virtual = "." }', 'dependencies = [']
    for j in range(size):
        out += edge(j)
    out += [']', '']
    return "\n".join(out)


def timed(run, runs: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs + 1):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="250,500,1000,2000")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    import tomllib

    from governance.collect import ScanOptions, collect
    from governance.collect.target import resolve
    from governance.pipeline import SbomRequest, make_sbom, scan

    markers, target = resolve("linux-x86_64", "3.11")
    print(f"{'packages':>8} {'lock KB':>8} {'tomllib s':>10} {'sbom s':>8} {'scan s':>8} {'µs/pkg':>8} {'ratio':>6}")
    previous: float | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            folder = Path(tmp) / f"lock{size}"
            folder.mkdir()
            text = make_lock(size)
            (folder / "uv.lock").write_text(text)
            (folder / "pyproject.toml").write_text('[project]\nname = "bench"\nversion = "0.1.0"\n')
            options = ScanOptions(project=folder, markers=markers, target=target, include_environment=False,
                                  include_models=False)
            floor = timed(lambda: tomllib.loads(text), args.runs)
            inventory = collect(options)
            sbom = timed(lambda: make_sbom(collect(options), SbomRequest(reproducible=True)), args.runs)
            scanned = timed(lambda: scan(options, "production", None, SbomRequest(reproducible=True)), args.runs)
            ratio = f"{scanned / previous:.2f}" if previous else "-"
            print(f"{len(inventory.packages):>8} {len(text) // 1024:>8} {floor:>10.3f} {sbom:>8.3f} {scanned:>8.3f} "
                  f"{scanned / max(1, len(inventory.packages)) * 1e6:>8.0f} {ratio:>6}")
            previous = scanned


if __name__ == "__main__":
    main()
