"""A poetry.lock made from another pyproject.toml is refused, as poetry refuses it.

`poetry install`, `poetry sync` and `poetry export` stop with "pyproject.toml changed significantly since
poetry.lock was last generated. Run `poetry lock` to fix the lock file." when the lock's [metadata]
content-hash is not that of the pyproject.toml beside it (poetry's Locker.is_fresh): such a lock installs
nothing, so mlgov lists nothing from it either (exit 2, naming the content-hash line and `poetry lock`).

The reference is poetry's own Locker.is_fresh, asked for every poetry.lock the tests hold (when poetry is
installed, else its recorded verdicts below). The stale ones are real: poetry 2.5.1's own test fixtures
(tests/data/lockfiles/poetry-fresh, copied from its sdist: SOURCE.md there).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

import pytest

from governance.collect import lockfiles
from governance.collect.lockfiles.poetry import content_hash
from governance.collect.target import target_markers
from governance.errors import InputError
from tests import locktruth

ROOT = Path(__file__).resolve().parent.parent
FRESH = ROOT / "tests" / "data" / "lockfiles" / "poetry-fresh"
LOCKS = sorted(p for p in [*ROOT.joinpath("tests", "data").rglob("poetry.lock"),
                           *locktruth.CORPUS.glob("*/poetry.lock"), *locktruth.CORPUS.glob("*/*/poetry.lock")]
               if (p.parent / "pyproject.toml").is_file())
# poetry 2.5.1's Locker.is_fresh() said False for these, True for every other lock in LOCKS.
STALE = {FRESH / "outdated_lock" / "poetry.lock", FRESH / "old_lock" / "poetry.lock",
         FRESH / "up_to_date_lock_non_package" / "poetry.lock"}

_ASK_POETRY = """
import json, sys, tomllib
from pathlib import Path
from poetry.packages.locker import Locker
answers = {}
for lock in sys.argv[1:]:
    data = tomllib.loads((Path(lock).parent / "pyproject.toml").read_text())
    answers[lock] = Locker(Path(lock), data).is_fresh()
print(json.dumps(answers))
"""


def _poetry_says() -> dict[str, bool] | None:
    poetry = locktruth.tool_path("poetry")
    python = Path(poetry).parent / "python" if poetry else None
    if python is None or not python.is_file():
        return None
    done = subprocess.run([str(python), "-c", _ASK_POETRY, *map(str, LOCKS)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def test_the_recorded_verdicts_are_poetrys() -> None:
    assert len(LOCKS) >= 10 and STALE <= set(LOCKS)
    said = _poetry_says()
    if said is None:
        print("poetry is not installed: its recorded verdicts are the truth")
        return
    assert {Path(lock) for lock, fresh in said.items() if not fresh} == STALE


@pytest.mark.parametrize("lock", LOCKS, ids=[str(p.relative_to(p.parents[2])) for p in LOCKS])
def test_mlgov_refuses_the_locks_poetry_refuses(lock: Path) -> None:
    markers = target_markers("linux-x86_64", "3.11", {})
    if lock not in STALE:
        lockfiles.read(lock, lock.parent, markers)
        return
    with pytest.raises(InputError) as caught:
        lockfiles.read(lock, lock.parent, markers)
    text = lock.read_text()
    line = text[:text.find("content-hash")].count("\n") + 1
    assert str(caught.value).startswith(f"poetry.lock:{line}: pyproject.toml changed significantly"), caught.value
    assert "poetry lock" in str(caught.value)


def test_the_content_hash_is_poetrys() -> None:
    """Poetry 1.5 wrote this one from [tool.poetry] alone; Poetry 2.1 the one of a [project] table."""
    for folder in (FRESH / "up_to_date_lock", ROOT / "tests" / "data" / "lockfiles" / "poetry-real" /
                   "with-optionals-no-extra-lock21"):
        recorded = tomllib.loads((folder / "poetry.lock").read_text())["metadata"]["content-hash"]
        assert content_hash(tomllib.loads((folder / "pyproject.toml").read_text())) == recorded
