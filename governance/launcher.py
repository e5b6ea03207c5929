"""The `mlgov` console script: answers `--version` before anything is imported.

A gate runs on every push and a pre-commit hook on every commit, so start-up
is paid again and again. `mlgov --version` needs nothing but the version
string; every other command goes to the click CLI, which itself imports a
command's modules only when that command runs. tests/test_startup.py lists
what each of these imports, so that a new top-level import cannot slow them
down unnoticed.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from governance import __version__

        sys.stdout.write(f"mlgov, version {__version__}\n")
        sys.exit(0)
    # A command allocates ~50,000 objects while it starts (modules, classes, the generated methods of
    # ~60 dataclasses) and keeps nearly all of them: the collector's default pace (a young-generation
    # pass every 700 allocations) re-examines them ~60 times, 0.01-0.02 s of every command, to free
    # almost nothing. A pass every 50,000 (mypy does the same) still bounds a long run's cycles.
    import gc

    gc.set_threshold(50_000, 10, 10)
    from governance.cli import main as cli_main

    cli_main(args)
