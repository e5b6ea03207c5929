"""Benchmark: the streamed SHA-256 of a model file against `sha256sum` on the same file.

    python benchmarks/bench_sha256.py [--size-mb 1024] [--runs 3]

Writes a file of random bytes (default 1 GiB) in a temporary folder, then
times `sha256sum FILE` (and `openssl dgst -sha256` when present) and mlgov's sha256_file (the function the scan uses,
progress messages included) alternately, best of --runs each, and prints
both throughputs and the ratio. Target (issue 14): mlgov >= 90% of sha256sum.
The file is read once before timing so both read from the page cache.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from governance.collect.models import sha256_file  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.bin"
        chunk = os.urandom(1 << 20)
        with open(path, "wb") as f:
            for _ in range(args.size_mb):
                f.write(chunk)
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        ours, theirs, openssl = [], [], []
        has_openssl = shutil.which("openssl") is not None
        messages: list[str] = []
        expected = None
        for _ in range(args.runs):
            start = time.perf_counter()
            out = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True).stdout
            theirs.append(time.perf_counter() - start)
            expected = out.split()[0]
            if has_openssl:
                start = time.perf_counter()
                subprocess.run(["openssl", "dgst", "-sha256", str(path)], capture_output=True, check=True)
                openssl.append(time.perf_counter() - start)
            start = time.perf_counter()
            digest = sha256_file(path, messages.append)
            ours.append(time.perf_counter() - start)
            assert digest == expected, (digest, expected)
        mb = args.size_mb
        best_ours, best_theirs = min(ours), min(theirs)
        print(f"file: {mb} MiB of random bytes (page cache warm), best of {args.runs}")
        print(f"sha256sum            {best_theirs:6.3f} s  {mb / best_theirs:8.1f} MiB/s")
        print(f"mlgov sha256_file    {best_ours:6.3f} s  {mb / best_ours:8.1f} MiB/s  "
              f"({len(messages) // args.runs} progress lines per file on stderr)")
        if openssl:
            print(f"openssl dgst -sha256 {min(openssl):6.3f} s  {mb / min(openssl):8.1f} MiB/s")
        print(f"ratio mlgov/sha256sum throughput: {best_theirs / best_ours:.2f} (target >= 0.90)")
        if openssl:
            print(f"ratio mlgov/openssl throughput:   {min(openssl) / best_ours:.2f}")


if __name__ == "__main__":
    main()
