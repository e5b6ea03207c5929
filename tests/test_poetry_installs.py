"""mlgov reads poetry.lock files as `poetry install` installs them.

Real poetry.lock files (lock-version 1.0 to 2.1) that cyclonedx-bom 7.5.0 ships in its sdist, each next
to the pyproject.toml it was locked from (tests/data/lockfiles/poetry-real, SOURCE.md there). The truth is
`poetry install --dry-run --no-root` itself, offline, into a fresh virtual environment of the target
CPython (tests.locktruth.poetry_installs); its answers are recorded beside each lock (installs.*.txt)
and, where poetry and that CPython are installed, the recording must still be poetry's answer.

What these locks exercise, each of which mlgov read differently before:

- several entries of one name (lock 2.0: pathlib2 2.3.5 for Python < 3.7 on Linux, a git 2.3.5 on macOS,
  2.3.6 on old Windows, 2.3.7.post1 for >= 3.7; six 1.11.0 and 1.16.0): the newest entry the constraint
  allows whose `python-versions` admits the target, as poetry picks it (mlgov took the first);
- an extra asked for as `xml-Validation` (poetry normalises the name: lxml comes with it);
- lock 2.1 packages marked `optional = true` that no extra's marker restricts: poetry installs them
  (mlgov left out every optional entry when no extra was asked for);
- lock 1.0's `[package.dependencies.async-timeout] python = "<3.11"` table (mlgov ignored `python`) and an
  optional dependency whose extras (`uvicorn[standard]`) are on its own entry while the extra's list says
  "uvicorn" (mlgov lost `standard`: httptools, python-dotenv, uvloop, websockets).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from governance.collect import lockfiles
from governance.collect.selection import Selection
from governance.collect.target import target_markers
from tests import locktruth

FIXTURES = Path(__file__).resolve().parent / "data" / "lockfiles" / "poetry-real"


@dataclass(frozen=True)
class Install:
    folder: str
    variant: str  # the recording's name: installs.<variant>.txt
    args: tuple[str, ...] = ()  # poetry install's options
    extras: tuple[str, ...] = ()
    no_dev: bool = False
    python: str = "3.11"

    @property
    def recording(self) -> Path:
        return FIXTURES / self.folder / f"installs.{self.variant}.txt"


INSTALLS = [
    Install("multi-constraint-deps-lock20", "default"),
    Install("with-extras-lock20", "all-extras", ("--all-extras",), extras=("my-extra", "toml", "foo")),
    Install("with-optionals-no-extra-lock21", "default"),
    Install("with-optionals-no-extra-lock21", "only-main", ("--only", "main"), no_dev=True),
    Install("regression-issue702-lock10", "default"),
]


def _truth(case: Install) -> str:
    recorded = case.recording.read_text()
    try:
        live = locktruth.poetry_installs(FIXTURES / case.folder, case.python, case.args)
    except locktruth.Unavailable as why:
        print(f"{case.folder} {case.variant}: {why}; the recorded answer is the truth")
        return recorded
    assert live == recorded, f"poetry now installs otherwise from {case.folder}: record it again and review"
    return live


def _mlgov(case: Install) -> set[str]:
    folder = FIXTURES / case.folder
    result = lockfiles.read(folder / "poetry.lock", folder, target_markers("linux-x86_64", case.python, {}),
                            Selection(extras=case.extras, no_dev=case.no_dev))
    return {f"{d.key}=={d.version}" for d in result.declarations if d.provenance.applies}


@pytest.mark.parametrize("case", INSTALLS, ids=[f"{c.folder}-{c.variant}" for c in INSTALLS])
def test_mlgov_lists_what_poetry_install_installs(case: Install) -> None:
    expected = set(_truth(case).split())
    assert expected, "poetry installs nothing here: the comparison would prove nothing"
    got = _mlgov(case)
    assert sorted(got - expected) == [] and sorted(expected - got) == []


def test_the_pathlib2_for_python_3_11_is_the_newest_its_constraint_allows() -> None:
    got = _mlgov(INSTALLS[0])
    assert got == {"pathlib2==2.3.7.post1", "six==1.16.0"}


if __name__ == "__main__":  # record: python -m tests.test_poetry_installs (poetry and the CPythons installed)
    for install in INSTALLS:
        install.recording.write_text(locktruth.poetry_installs(FIXTURES / install.folder, install.python,
                                                               install.args))
        print(install.recording)
