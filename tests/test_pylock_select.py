"""mlgov reads a PEP 751 lock as the standard's installation steps read it.

The reference is packaging's `Pylock.select` (packaging >= 26.1, a dependency of mlgov), which
implements PEP 751's "Installation" section step by step: the file's `requires-python` and
`environments` must admit the target (an installer MUST refuse the lock otherwise), each entry's
marker is evaluated with the default groups and no extras, a selected entry's own `requires-python`
must admit the target, and two selected entries of one name are an error. For every pylock we hold
(the fixtures, the real-project corpus, and the real files of tests/data/lockfiles/pylock-real, copied
from public sdists: see SOURCE.md there) and several targets, the set of (name, version) mlgov lists
equals what `select` yields, and where `select` refuses, mlgov refuses (exit 2, naming the line).

Which wheel `select` picks is not compared: it needs the target's wheel tags, and mlgov lists a
package with all its files' hashes. So every wheel named in the lock counts as compatible here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest
from packaging.pylock import Pylock, PylockSelectError
from packaging.tags import Tag
from packaging.utils import canonicalize_name, parse_wheel_filename

from governance.collect.lockfiles import pylock
from governance.collect.target import target_markers
from governance.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "real-projects"
REAL = ROOT / "tests" / "data" / "lockfiles" / "pylock-real"

LOCKS = sorted({*ROOT.joinpath("tests", "data").rglob("pylock*.toml"), *CORPUS.glob("*/pylock*.toml")})
TARGETS = [("linux-x86_64", "3.11"), ("linux-x86_64", "3.12"), ("linux-aarch64", "3.9"), ("macos-arm64", "3.12"),
           ("windows-amd64", "3.13"), ("linux-x86_64", "3.15")]


def _all_tags(data: dict) -> list[Tag]:
    """Every tag of every wheel the lock names: the wheel choice is not what is compared."""
    tags: set[Tag] = set()
    for package in data.get("packages", []):
        for wheel in package.get("wheels", []) or []:
            name = wheel.get("name") or unquote(str(wheel.get("url") or wheel.get("path")).rsplit("/", 1)[-1])
            tags |= set(parse_wheel_filename(name)[-1])
    return sorted(tags, key=str)


def _no_empty_hashes(data: dict) -> dict:
    """uv writes `hashes = {}` for a file from an index that publishes no hash (mlcg's wheels from
    download.pytorch.org), and `uv pip install -r` installs it; packaging's validation wants at least one.
    Hashes are not what is compared here, so an empty table gets a placeholder."""
    for package in data.get("packages", []):
        for artefact in [package.get("sdist"), package.get("archive"), *(package.get("wheels") or [])]:
            if isinstance(artefact, dict) and artefact.get("hashes") == {}:
                artefact["hashes"] = {"sha256": "0" * 64}
    return data


def _reference(path: Path, markers: dict[str, str]) -> set[tuple[str, str]]:
    data = _no_empty_hashes(tomllib.loads(path.read_text()))
    lock = Pylock.from_dict(data)
    selected = set()
    for package, _source in lock.select(environment=markers, tags=_all_tags(data)):  # type: ignore[arg-type]
        if package.directory is not None and package.directory.path.strip().rstrip("/") in (".", ""):
            continue  # the project itself: mlgov's SBOM root, not a dependency
        selected.add((canonicalize_name(package.name), str(package.version or "")))
    return selected


def _mlgov(path: Path, markers: dict[str, str]) -> set[tuple[str, str]]:
    result = pylock.read(path, path.parent, markers)
    return {(d.key, d.version or "") for d in result.declarations if d.provenance.applies}


def test_the_real_pylocks_are_there() -> None:
    names = {p.parent.name for p in LOCKS if REAL in p.parents}
    assert names == {"pep751-example", "python-discovery", "virtualenv-zipapp"}
    assert len(LOCKS) >= 9, LOCKS


@pytest.mark.parametrize("target", TARGETS, ids=[f"{p}-{v}" for p, v in TARGETS])
@pytest.mark.parametrize("path", LOCKS, ids=[str(p.relative_to(p.parents[1])) for p in LOCKS])
def test_mlgov_selects_what_pep_751_installs(path: Path, target: tuple[str, str]) -> None:
    markers = target_markers(target[0], target[1], {})
    try:
        expected = _reference(path, markers)
    except PylockSelectError as refusal:
        with pytest.raises(InputError) as caught:
            _mlgov(path, markers)
        message = str(caught.value)
        print(f"{path.name} on {target}: packaging refuses ({refusal}); mlgov: {message}")
        assert message.startswith(f"{path.name}:"), message
        return
    assert sorted(_mlgov(path, markers) ^ expected) == []


def test_a_lock_for_other_pythons_is_refused_with_its_line() -> None:
    """python-discovery's real lock is for CPython 3.15 on Linux x86_64 only (its `environments`);
    the PEP's own example asks for `requires-python = '==3.12.*'`."""
    markers = target_markers("linux-x86_64", "3.11", {})
    with pytest.raises(InputError, match=r"^pylock\.toml:2: none of its environments holds"):
        pylock.read(REAL / "python-discovery" / "pylock.toml", REAL / "python-discovery", markers)
    with pytest.raises(InputError, match=r"^pylock\.toml:10: requires-python '==3\.12\.\*' does not admit"):
        pylock.read(REAL / "pep751-example" / "pylock.toml", REAL / "pep751-example", markers)
    on_315 = target_markers("linux-x86_64", "3.15", {})
    assert ("filelock", "4.2.10") in _mlgov(REAL / "python-discovery" / "pylock.toml", on_315)


def test_a_package_whose_own_requires_python_refuses_the_target_stops_the_read(tmp_path: Path) -> None:
    text = (REAL / "pep751-example" / "pylock.toml").read_text().replace("requires-python = '>=3.8'",
                                                                          "requires-python = '>=3.13'", 1)
    (tmp_path / "pylock.toml").write_text(text)
    markers = target_markers("linux-x86_64", "3.12", {})
    with pytest.raises(InputError, match=r"package attrs: requires-python '>=3\.13' does not admit"):
        pylock.read(tmp_path / "pylock.toml", tmp_path, markers)
