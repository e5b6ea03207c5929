"""The user cache: where the advisory index (index.py) and pip-audit's cache are kept between scans.

`MLGOV_CACHE_DIR` wins, then `$XDG_CACHE_HOME/mlgov`, then `~/.cache/mlgov`.
A cache that cannot be read or written is not an error: the scan just reads
the database again. Nothing in it is code (never pickle). Whoever can write
the user's cache folder can already change what the user runs, so an index
is checked for damage, not defended against its owner.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "MLGOV_CACHE_DIR"


def cache_dir() -> Path:
    if os.environ.get(ENV):
        return Path(os.environ[ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mlgov"
